import { setTimeout as sleep } from 'node:timers/promises';
import type { protos } from '@google-cloud/compute';
import { activitySignal, heartbeatIfInActivity } from '../common/activity-heartbeat.js';
import { nonRetryable } from '../common/errors.js';
import { GCE_GLOBAL_REGION } from '../common/plan-gce-target.js';
import type { CloudImage, CreateImageInput, ImageRef, ReleaseRef } from '../provider.js';
import type { GceClients } from './clients.js';
import { gce, isNotFound } from './gce-errors.js';
import { byReleaseToken, gceOptions, LABEL, labelValue, releaseLabels, stableRequestId } from './labels.js';
import { runOperation } from './operations.js';

type Image = protos.google.cloud.compute.v1.IImage;

export interface WaitSettings {
  /** Between polls of an image that is not READY yet (Google: tens of seconds to minutes). */
  pollMs: number;
}

/** `gs://bucket/object` (our disk id) as the https URL images.insert wants in rawDisk.source. */
export function rawDiskSource(diskId: string): string {
  const m = /^gs:\/\/([^/]+)\/(.+)$/.exec(diskId);
  if (!m) throw nonRetryable('InvalidJob', `internal: "${diskId}" is not a gs:// object`);
  return `https://storage.googleapis.com/${m[1]}/${m[2]}`;
}

/**
 * The exact images.insert body for a release's disk: architecture as GCE names it, the
 * guest OS features (UEFI_COMPATIBLE already added by the plan when boot_firmware asks),
 * family and licenses from the job, the run's labels.
 * https://cloud.google.com/compute/docs/reference/rest/v1/images#resource:-image
 */
export function imageInsertBody(input: CreateImageInput): Image {
  const options = gceOptions(input);
  return {
    name: input.imageName,
    description: input.description,
    architecture: input.architecture === 'aarch64' ? 'ARM64' : 'X86_64',
    rawDisk: { source: rawDiskSource(input.disk.diskId) },
    guestOsFeatures: options.guestOsFeatures.map((type) => ({ type })),
    ...(options.family && { family: options.family }),
    ...(options.licenses.length > 0 && { licenses: options.licenses }),
    labels: releaseLabels(input.release),
  };
}

/**
 * Makes the image from the uploaded tarball. Idempotent twice over: the insert carries a
 * requestId stable for this run (a retry whose answer was lost is the same insert), and an
 * image of this name carrying this run's token is this run's (found, waited for, returned).
 * An image of that name from elsewhere fails unless force_replace_image, as in mash.
 */
export async function createGceImage(c: GceClients, input: CreateImageInput, wait: WaitSettings): Promise<ImageRef> {
  const { release, imageName } = input;
  const existing = await getImage(c, imageName);
  if (existing && !ownedBy(existing, release)) {
    if (!gceOptions(input).forceReplace) {
      throw nonRetryable(
        'ImageAlreadyExists',
        `GCE image "${imageName}" already exists in project ${c.project} (made by another release); set force_replace_image: true to replace it, or change cloud_image_name`,
      );
    }
    await deleteGceImage(c, imageName);
  }
  if (!existing || !ownedBy(existing, release)) {
    await runOperation(c, `images.insert ${imageName}`, () =>
      c.images.insert({ project: c.project, requestId: stableRequestId(release, `image:${imageName}`), imageResource: imageInsertBody(input) }),
    );
  }
  await waitUntilReady(c, imageName, wait);
  return { region: GCE_GLOBAL_REGION, imageId: imageName, imageName };
}

async function waitUntilReady(c: GceClients, name: string, { pollMs }: WaitSettings): Promise<Image> {
  for (;;) {
    const image = await getImage(c, name);
    if (!image) throw new Error(`GCE image ${name} disappeared while it was being created`);
    if (image.status === 'READY') return image;
    if (image.status === 'FAILED') {
      throw nonRetryable('CloudInvalidRequest', `GCE could not create image ${name} from its tarball (status FAILED): check the disk is a raw disk GCE can boot`);
    }
    heartbeatIfInActivity({ waitingFor: name, status: image.status });
    await sleep(pollMs, undefined, { signal: activitySignal() });
  }
}

export async function getImage(c: GceClients, name: string): Promise<Image | undefined> {
  try {
    const [image] = await c.images.get({ project: c.project, image: name });
    return image;
  } catch (error) {
    if (isNotFound(error)) return undefined;
    return gce(`images.get ${name}`, () => Promise.reject(error));
  }
}

const ownedBy = (image: Image, release: ReleaseRef) => image.labels?.[LABEL.releaseToken] === labelValue(release.releaseToken);

export function toCloudImage(image: Image): CloudImage {
  const deprecated = image.deprecated?.state && image.deprecated.state !== 'ACTIVE';
  const state = deprecated ? 'deprecated' : image.status === 'READY' ? 'available' : image.status === 'FAILED' ? 'failed' : 'pending';
  return {
    region: GCE_GLOBAL_REGION,
    imageId: image.name!,
    imageName: image.name!,
    state,
    ...(image.labels?.[LABEL.releaseToken] && { releaseToken: image.labels[LABEL.releaseToken] }),
    visibility: 'private',
  };
}

export async function findGceImage(c: GceClients, name: string): Promise<CloudImage | undefined> {
  const image = await getImage(c, name);
  return image && toCloudImage(image);
}

/** Deletes the image; one already gone is fine. */
export async function deleteGceImage(c: GceClients, name: string): Promise<void> {
  try {
    await runOperation(c, `images.delete ${name}`, () => c.images.delete({ project: c.project, image: name }));
  } catch (error) {
    if (!isNotFound(error)) throw error;
  }
}

/** The saga's part: every image carrying this run's token. */
export async function discardGceImages(c: GceClients, release: ReleaseRef): Promise<void> {
  const [images] = await gce('images.list', () => c.images.list({ project: c.project, filter: byReleaseToken(release) }));
  for (const image of images) await deleteGceImage(c, image.name!);
}
