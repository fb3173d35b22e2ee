import { readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { ImageRef, ReleaseRef, UploadedDisk } from '../provider.js';
import { diskIdFor } from './upload.js';
import type { LocalStore } from './store.js';

export async function deleteLocalImage(store: LocalStore, release: ReleaseRef, image: ImageRef): Promise<void> {
  await rm(store.imageJson(release.account, image.region, image.imageId), { force: true });
  await rm(store.imageDisk(release.account, image.region, image.imageId), { force: true });
}

export async function deleteLocalDisk(
  store: LocalStore,
  release: ReleaseRef,
  disk: Pick<UploadedDisk, 'region' | 'diskId'>,
): Promise<void> {
  const dir = store.dir(release.account, disk.region, 'disks');
  await rm(join(dir, `${disk.diskId}.raw`), { force: true });
  await rm(join(dir, `${disk.diskId}.json`), { force: true });
}

/** The saga's safety net: every staging upload, disk and image carrying this run's token. */
export async function discardLocalReleaseArtifacts(store: LocalStore, release: ReleaseRef, regions: string[]): Promise<void> {
  const diskId = diskIdFor(release.releaseToken);
  for (const region of regions) {
    await rm(join(store.dir(release.account, region, 'staging'), `${diskId}.raw.part`), { force: true });
    await deleteLocalDisk(store, release, { region, diskId });
    for (const image of await store.listImages(release.account, region)) {
      if (image.releaseToken === release.releaseToken) await deleteLocalImage(store, release, { region, ...image });
    }
    // A copy interrupted before its rename.
    const images = store.dir(release.account, region, 'images');
    for (const name of await readdir(images).catch(() => [] as string[])) {
      if (name.endsWith('.tmp')) await rm(join(images, name), { force: true });
    }
  }
}
