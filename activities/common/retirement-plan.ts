import type { RetirementPolicy } from '../../schemas/retirement-policy.js';
import type { ImageRef } from '../provider.js';
import type { CatalogImage } from './catalog/catalog.js';
import { pairWithReplacements, type Replacement } from './release-activities.js';

/** What a retirement run changes: images to deprecate (with their replacements) and images to delete. */
export interface RetirementPlan {
  /** Release ids that stay active, newest first. */
  kept: string[];
  deprecate: Replacement[];
  delete: ImageRef[];
}

const DAY_MS = 24 * 3600 * 1000;

/**
 * Decides a retirement run from the catalog's images of one line and account. Releases are
 * ordered by when they went out; the newest `keep` stay, older ones are deprecated (if old
 * enough), each image replaced by the newest release's image in its region. Images already
 * deprecated long enough are deleted. The newest release is never touched.
 */
export function retirementPlan(images: CatalogImage[], policy: RetirementPolicy, now: Date): RetirementPlan {
  const active = images.filter((i) => i.state === 'active');
  const releases = groupByRelease(active).sort((a, b) => b.at - a.at || (b.releaseId < a.releaseId ? -1 : 1));
  const kept = releases.slice(0, policy.keep);
  const newest = kept[0];
  const oldEnough = (at: number) =>
    policy.older_than_days === undefined || now.getTime() - at >= policy.older_than_days * DAY_MS;
  const retiring = newest ? releases.slice(policy.keep).filter((r) => oldEnough(r.at)) : [];
  const deprecate = newest ? pairWithReplacements(retiring.flatMap((r) => r.images.map(ref)), newest.images.map(ref)) : [];
  // Past delete_after_days, or past the date the cloud itself records (GCE's `deleted`,
  // from months_to_deletion: GCE never deletes by itself, so we do).
  const deletable = images.filter(
    (i) =>
      i.state === 'deprecated' &&
      ((policy.delete_after_days !== undefined &&
        i.deprecatedAt !== undefined &&
        now.getTime() - i.deprecatedAt.getTime() >= policy.delete_after_days * DAY_MS) ||
        (i.deleteAfter !== undefined && i.deleteAfter.getTime() <= now.getTime())),
  );
  return { kept: kept.map((r) => r.releaseId), deprecate, delete: deletable.map(ref) };
}

interface ReleaseGroup {
  releaseId: string;
  at: number;
  images: CatalogImage[];
}

function groupByRelease(images: CatalogImage[]): ReleaseGroup[] {
  const groups = new Map<string, ReleaseGroup>();
  for (const image of images) {
    const at = (image.activatedAt ?? image.createdAt).getTime();
    const group = groups.get(image.releaseToken) ?? { releaseId: image.releaseId, at, images: [] };
    group.at = Math.max(group.at, at);
    group.images.push(image);
    groups.set(image.releaseToken, group);
  }
  return [...groups.values()];
}

function ref(image: CatalogImage): ImageRef {
  return { region: image.region, imageId: image.imageId, imageName: image.imageName };
}
