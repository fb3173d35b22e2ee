import { copyFile, rename } from 'node:fs/promises';
import type { ImageRef, ReplicateImageInput } from '../provider.js';
import { imageIdFor, assertNameFree } from './create.js';
import type { LocalStore } from './store.js';

/** Copies an image to another region under a temp name first: a crash never shows half an image. */
export async function replicateLocalImage(store: LocalStore, input: ReplicateImageInput): Promise<ImageRef> {
  const { release, source, targetRegion } = input;
  const account = release.account;
  const imageId = imageIdFor(release.releaseToken, targetRegion);
  const existing = await store.readImage(account, targetRegion, imageId);
  if (existing) return { region: targetRegion, imageId, imageName: existing.imageName };
  const original = await store.readImage(account, source.region, source.imageId);
  if (!original) throw new Error(`source image ${source.imageId} is missing from ${account}/${source.region}`);
  await assertNameFree(store, account, targetRegion, original.imageName, release.releaseToken);

  await store.ensureDir(account, targetRegion, 'images');
  const target = store.imageDisk(account, targetRegion, imageId);
  // copyFile uses copy_file_range where the file system offers it, which keeps holes on most.
  await copyFile(store.imageDisk(account, source.region, source.imageId), `${target}.tmp`);
  await rename(`${target}.tmp`, target);
  await store.writeImage(account, targetRegion, {
    ...original,
    imageId,
    description: input.description,
    createdAt: new Date().toISOString(),
  });
  return { region: targetRegion, imageId, imageName: original.imageName };
}
