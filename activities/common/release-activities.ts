import { Context } from '@temporalio/activity';
import type { ReleasePlan } from '../../schemas/release-plan.js';
import { expandImageName } from '../../schemas/job/index.js';
import type { ImageRef, ReleaseRef, ResolvedImageSource } from '../provider.js';
import { nonRetryable } from './errors.js';
import type { ImageCatalog } from './catalog/catalog.js';
import { resolveImageSource } from './download/resolve-source.js';
import { planRelease } from './plan-release.js';
import { retirementPlan, type RetirementPlan } from './retirement-plan.js';
import type { RetirementPolicy } from '../../schemas/retirement-policy.js';
import { NO_ACCOUNTS, type AccountDirectory } from '../accounts/account-directory.js';

export interface ReleaseActivityDeps {
  catalog: ImageCatalog;
  /** Account names → regions for planning; the local cloud needs none. */
  accounts?: AccountDirectory;
}

export interface ResolvedRelease {
  source: ResolvedImageSource;
  /** `cloud_image_name` with {date}, {version} and {release} filled in. */
  imageName: string;
}

/** An old image and the new image (same region where there is one) that replaces it. */
export interface Replacement {
  image: ImageRef;
  replacement: ImageRef;
}

/** Cloud-neutral activities, served on the workflows queue: validation, download, catalog. */
export function createReleaseActivities({ catalog, accounts = NO_ACCOUNTS }: ReleaseActivityDeps) {
  return {
    async planRelease(job: unknown): Promise<ReleasePlan> {
      return planRelease(job, accounts);
    },

    /** The download step: find the newest build that meets the job's conditions. */
    async resolveSource({ plan, date }: { plan: ReleasePlan; date: string }): Promise<ResolvedRelease> {
      const context = Context.current();
      const source = await resolveImageSource(plan.source, {
        heartbeat: (details) => context.heartbeat(details),
        sleep: (ms) => context.sleep(ms),
      });
      const imageName = expandImageName(plan.imageNameTemplate, {
        date: plan.useBuildTime ? buildDate(source) : date,
        version: source.version,
        release: source.release,
      });
      return { source, imageName };
    },

    async activateRelease({
      releaseToken,
      visibility,
      privateRegions,
    }: {
      releaseToken: string;
      visibility: string;
      /** Regions whose publish was skipped: their images stayed private. */
      privateRegions?: string[];
    }): Promise<number> {
      return catalog.activateRelease(releaseToken, visibility, privateRegions);
    },

    /** `utctime: always`: has this build (checksum) of the line been released in the account already? */
    async buildAlreadyReleased(q: { cloud: string; account: string; imageLine: string; checksum: string }): Promise<boolean> {
      return catalog.hasReleasedBuild(q);
    },

    /** A scheduled retirement run: what to deprecate and delete in one line and account (see retirementPlan). */
    async planRetirement(policy: RetirementPolicy): Promise<RetirementPlan> {
      const images = await catalog.listImages({ cloud: policy.cloud, account: policy.account, imageLine: policy.image_line });
      return retirementPlan(images, policy, new Date());
    },

    /**
     * The images this release retires: the catalog's active images of the same line (made
     * by earlier releases), each paired with the new image of its region.
     */
    async findReplacedImages({
      release,
      imageLine,
      newImages,
    }: {
      release: ReleaseRef;
      imageLine: string;
      newImages: ImageRef[];
    }): Promise<Replacement[]> {
      const old = await catalog.findReplaceable({
        cloud: release.cloud,
        account: release.account,
        imageLine,
        excludeReleaseToken: release.releaseToken,
      });
      return pairWithReplacements(
        old.map((o) => ({ region: o.region, imageId: o.imageId, imageName: o.imageName })),
        newImages,
      );
    },
  };
}

/** Pairs each old image with the new image in its region, or the home-region image. */
export function pairWithReplacements(old: ImageRef[], newImages: ImageRef[]): Replacement[] {
  const home = newImages[0];
  if (!home) return [];
  return old.map((image) => ({
    image,
    replacement: newImages.find((n) => n.region === image.region) ?? home,
  }));
}

export type ReleaseActivities = ReturnType<typeof createReleaseActivities>;

/** use_build_time's {date}: the build's UTC day, as YYYYMMDD (the form the release day takes). */
function buildDate(source: ResolvedImageSource): string {
  if (!source.builtAt) {
    throw nonRetryable(
      'ImageSourceNotFound',
      `use_build_time: the build service gives no Last-Modified for ${source.fileName}, so its build time is unknown; leave use_build_time out to use the release's day`,
      { fileName: source.fileName },
    );
  }
  return source.builtAt.slice(0, 10).replace(/-/g, '');
}
