import { rename, rm } from 'node:fs/promises';
import { basename } from 'node:path';
import { nonRetryable } from '../common/errors.js';
import type { ImageRef, ReplicateImageInput } from '../provider.js';
import { assertNameFree, imageIdFor } from './create.js';
import { copySparseFile } from './sparse-copy.js';
import { removeNameHolders } from './replace.js';
import type { LocalStore } from './store.js';

/**
 * Copies an image to another region of the same account. The disk is copied under a temp
 * name and renamed, and the metadata is written last, so a crash never shows half an image;
 * the retry starts the copy over. The replica starts private, like a copied AMI: the
 * publish step decides who sees it in every region.
 */
export async function replicateLocalImage(store: LocalStore, input: ReplicateImageInput): Promise<ImageRef> {
  const { release, source, targetRegion } = input;
  const { account } = release;
  const imageId = imageIdFor(release.releaseToken, targetRegion);
  const existing = await store.readImage(account, targetRegion, imageId);
  if (existing) return { region: targetRegion, imageId, imageName: existing.imageName };
  const original = await store.readImage(account, source.region, source.imageId);
  if (!original) {
    throw nonRetryable(
      'CloudInvalidRequest',
      `source image ${source.imageId} is missing from local ${account}/${source.region}`,
    );
  }
  // force_replace_image: the home image is tested by now; the other image of the name goes first.
  if (input.options?.cloud === 'local' && input.options.forceReplace) await removeNameHolders(store, account, targetRegion, original.imageName, release.releaseToken);
  await assertNameFree(store, account, targetRegion, original.imageName, release.releaseToken);
  const closed = (await store.closedReason(account, targetRegion, 'enabled')) ?? (await store.closedReason(account, targetRegion));
  if (closed) throw nonRetryable('CloudPermissionDenied', `local region ${targetRegion} of ${account} refuses copies: ${closed}`);

  await store.ensureDir(account, targetRegion, 'images');
  const target = store.imageDisk(account, targetRegion, imageId);
  const temp = `${target}.tmp`;
  const from = store.imageDisk(account, source.region, source.imageId);
  try {
    await copySparseFile(from, temp);
    await rename(temp, target);
  } catch (error) {
    await rm(temp, { force: true });
    throw error;
  }
  const { deprecatedAt: _deprecatedAt, replacement: _replacement, ...facts } = original;
  await store.writeImage(account, targetRegion, {
    ...facts,
    imageId,
    description: input.description,
    diskFile: basename(target),
    state: 'available',
    visibility: 'private',
    sharedWith: [],
    allowCopy: false,
    replicatedFrom: { region: source.region, imageId: source.imageId },
    createdAt: new Date().toISOString(),
  });
  return { region: targetRegion, imageId, imageName: original.imageName };
}
