import { rm } from 'node:fs/promises';
import { nonRetryable } from '../common/errors.js';
import type { CompleteReplacementInput, ImageRef } from '../provider.js';
import type { LocalStore } from './store.js';

/** Every other run's image of this name in a region (names are unique, as in the clouds). */
export async function imagesHoldingName(
  store: LocalStore,
  account: string,
  region: string,
  imageName: string,
  releaseToken: string,
) {
  return (await store.listImages(account, region)).filter(
    (i) => i.imageName === imageName && i.releaseToken !== releaseToken,
  );
}

/** Removes them: metadata first, so the name is free the moment the first file goes. */
export async function removeNameHolders(
  store: LocalStore,
  account: string,
  region: string,
  imageName: string,
  releaseToken: string,
): Promise<ImageRef[]> {
  const holders = await imagesHoldingName(store, account, region, imageName, releaseToken);
  for (const old of holders) {
    await rm(store.imageJson(account, region, old.imageId), { force: true });
    await rm(store.imageDisk(account, region, old.imageId), { force: true });
  }
  return holders.map((old) => ({ region, imageId: old.imageId, imageName }));
}

/**
 * force_replace_image once the stand-in image passed its tests: the other image of the name
 * goes and the release's image takes the name (its metadata is rewritten; the disk stays).
 * A retry finds the name already the release's.
 */
export async function completeLocalReplacement(
  store: LocalStore,
  input: CompleteReplacementInput,
): Promise<{ image: ImageRef; replaced: ImageRef[] }> {
  const { release, imageName, standIn } = input;
  const { account } = release;
  const replaced = await removeNameHolders(store, account, standIn.region, imageName, release.releaseToken);
  const mine = await store.readImage(account, standIn.region, standIn.imageId);
  if (!mine)
    throw nonRetryable(
      'CloudInvalidRequest',
      `image ${standIn.imageId} is missing from local ${account}/${standIn.region}`,
    );
  if (mine.imageName !== imageName) await store.writeImage(account, standIn.region, { ...mine, imageName });
  return { image: { region: standIn.region, imageId: standIn.imageId, imageName }, replaced };
}
