import { link, rm, stat } from 'node:fs/promises';
import { basename } from 'node:path';
import { nonRetryable } from '../common/errors.js';
import type { CreateImageInput, ImageRef } from '../provider.js';
import { copySparseFile } from './sparse-copy.js';
import { imagesHoldingName } from './replace.js';
import { standInName } from '../common/stand-in-name.js';
import { deterministicId, type LocalImage, type LocalStore } from './store.js';

/** One image per run and region: a retry finds the image the first call made. */
export function imageIdFor(releaseToken: string, region: string): string {
  return deterministicId('img', releaseToken, region);
}

/**
 * Registers the uploaded disk as an image. The metadata file is written last, so an image
 * exists only once its disk is in place; a crash before that leaves a disk file the retry
 * replaces (or discardReleaseArtifacts removes).
 */
export async function createLocalImage(store: LocalStore, input: CreateImageInput): Promise<ImageRef> {
  const { release, disk, imageName } = input;
  const { account } = release;
  const { region } = disk;
  const imageId = imageIdFor(release.releaseToken, region);
  const existing = await store.readImage(account, region, imageId);
  // A retry of a stand-in (force_replace_image) says again which name it is to take.
  if (existing) return { region, imageId, imageName: existing.imageName, ...(existing.imageName !== imageName && { finalName: imageName }) };
  const replacing =
    input.options?.cloud === 'local' && input.options.forceReplace && (await imagesHoldingName(store, account, region, imageName, release.releaseToken)).length > 0;
  const name = replacing ? standInName(imageName, release.releaseToken) : imageName;
  if (!replacing) await assertNameFree(store, account, region, imageName, release.releaseToken);

  const uploaded = store.diskFile(account, region, disk.diskId);
  if (!(await stat(uploaded).catch(() => undefined))) {
    throw nonRetryable(
      'CloudInvalidRequest',
      `disk ${disk.diskId} is missing from ${account}/${region}: upload it again`,
    );
  }
  await store.ensureDir(account, region, 'images');
  const target = store.imageDisk(account, region, imageId);
  await rm(target, { force: true });
  // A hard link costs nothing and keeps the image's data when the uploaded disk is deleted.
  await link(uploaded, target).catch(() => copySparseFile(uploaded, target));
  const image: LocalImage = {
    imageId,
    imageName: name,
    description: input.description,
    architecture: input.architecture,
    bootFirmware: input.bootFirmware,
    diskFile: basename(target),
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
  await store.writeImage(account, region, image);
  return { region, imageId, imageName: name, ...(replacing && { finalName: imageName }) };
}

/**
 * Names are unique per account and region, as in the real clouds. Another run's image of
 * that name is a job problem (a name template without {date}, a rerun): say which image.
 */
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
      `an image named "${imageName}" already exists in local ${account}/${region} (${clash.imageId}): choose another cloud_image_name or delete that image`,
      { region, imageId: clash.imageId, imageName },
    );
  }
}
