import { rm } from 'node:fs/promises';
import type { ImageRef, ReleaseRef, UploadedDisk } from '../provider.js';
import { imageIdFor } from './create.js';
import type { LocalStore } from './store.js';
import { diskIdFor } from './upload.js';

/** Metadata first: once it is gone the image no longer exists, whatever happens to its disk. */
export async function deleteLocalImage(
  store: LocalStore,
  release: ReleaseRef,
  image: ImageRef,
): Promise<void> {
  await rm(store.imageJson(release.account, image.region, image.imageId), { force: true });
  await rm(store.imageDisk(release.account, image.region, image.imageId), { force: true });
}

/** Images are hard links or copies of their disk, so the uploaded disk can always go. */
export async function deleteLocalDisk(
  store: LocalStore,
  release: ReleaseRef,
  disk: Pick<UploadedDisk, 'region' | 'diskId'>,
): Promise<void> {
  await rm(store.diskJson(release.account, disk.region, disk.diskId), { force: true });
  await rm(store.diskFile(release.account, disk.region, disk.diskId), { force: true });
}

/**
 * The saga's safety net: the staging upload, disk and image carrying this run's token in
 * each region, temp files of interrupted copies included. Ids are derived from the token,
 * so even a half-made image without metadata is found; the metadata scan also catches an
 * image of this run under any other id. Other runs' files are never touched.
 */
export async function discardLocalReleaseArtifacts(
  store: LocalStore,
  release: ReleaseRef,
  regions: string[],
): Promise<void> {
  const { account, releaseToken } = release;
  const diskId = diskIdFor(releaseToken);
  await Promise.all(
    [...new Set(regions)].map(async (region) => {
      await store.removeAllOf(account, region, 'staging', diskId);
      await store.removeAllOf(account, region, 'disks', diskId);
      await store.removeAllOf(account, region, 'images', imageIdFor(releaseToken, region));
      for (const image of await store.listImages(account, region)) {
        if (image.releaseToken === releaseToken)
          await store.removeAllOf(account, region, 'images', image.imageId);
      }
      // A disk a retry adopted keeps the id its earlier run gave it: found by its metadata.
      for (const disk of await store.listDisks(account, region)) {
        if (disk.releaseToken === releaseToken) await store.removeAllOf(account, region, 'disks', disk.diskId);
      }
    }),
  );
}
