import { copyFile, link, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { nonRetryable } from '../common/errors.js';
import type { CreateImageInput, ImageRef } from '../provider.js';
import { deterministicId, type LocalImage, type LocalStore } from './store.js';

export function imageIdFor(releaseToken: string, region: string): string {
  return deterministicId('img', releaseToken, region);
}

/** Registers the uploaded disk as an image; a retry returns the image the first call made. */
export async function createLocalImage(store: LocalStore, input: CreateImageInput): Promise<ImageRef> {
  const { release, disk, imageName } = input;
  const account = release.account;
  const imageId = imageIdFor(release.releaseToken, disk.region);
  const existing = await store.readImage(account, disk.region, imageId);
  if (existing) return { region: disk.region, imageId, imageName: existing.imageName };
  await assertNameFree(store, account, disk.region, imageName, release.releaseToken);

  await store.ensureDir(account, disk.region, 'images');
  const target = store.imageDisk(account, disk.region, imageId);
  await rm(target, { force: true });
  const uploaded = join(store.dir(account, disk.region, 'disks'), `${disk.diskId}.raw`);
  // A hard link costs nothing and keeps the image when the intermediate disk is cleaned up.
  await link(uploaded, target).catch(() => copyFile(uploaded, target));
  const image: LocalImage = {
    imageId,
    imageName,
    description: input.description,
    architecture: input.architecture,
    bootFirmware: input.bootFirmware,
    releaseToken: release.releaseToken,
    state: 'available',
    visibility: 'private',
    sharedWith: [],
    allowCopy: false,
    checksum: `${disk.checksum.algorithm}:${disk.checksum.hex}`,
    sourceVersion: input.source.version,
    sourceRelease: input.source.release,
    createdAt: new Date().toISOString(),
  };
  await store.writeImage(account, disk.region, image);
  return { region: disk.region, imageId, imageName };
}

/** Names are unique per account and region, as in the real clouds. */
export async function assertNameFree(
  store: LocalStore,
  account: string,
  region: string,
  imageName: string,
  releaseToken: string,
): Promise<void> {
  const clash = (await store.listImages(account, region)).find(
    (i) => i.imageName === imageName && i.releaseToken !== releaseToken,
  );
  if (clash) {
    throw nonRetryable(
      'ImageAlreadyExists',
      `an image named "${imageName}" already exists in ${account}/${region} (${clash.imageId}): choose another cloud_image_name or remove it`,
    );
  }
}
