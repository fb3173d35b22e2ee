import { rename, rm } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { basename } from 'node:path';
import { activitySignal, heartbeatIfInActivity } from '../common/activity-heartbeat.js';
import { nonRetryable } from '../common/errors.js';
import type { ImageRef, ReplicateImageInput } from '../provider.js';
import { assertNameFree, imageIdFor } from './create.js';
import { copySparseFile } from './sparse-copy.js';
import { removeNameHolders } from './replace.js';
import type { LocalImage, LocalStore } from './store.js';

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
  // An earlier attempt's copy, finished or still under way: adopted, never started twice.
  const existing = await store.readImage(account, targetRegion, imageId);
  if (existing) return waitUntilCopied(store, account, targetRegion, existing);
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
  const { deprecatedAt: _deprecatedAt, replacement: _replacement, reusedFrom: _reusedFrom, ...facts } = original;
  const delayMs = await store.copyDelayMs(account, targetRegion);
  const copy: LocalImage = {
    ...facts,
    imageId,
    description: input.description,
    diskFile: basename(target),
    state: delayMs ? 'pending' : 'available',
    ...(delayMs && { readyAt: new Date(Date.now() + delayMs).toISOString() }),
    visibility: 'private',
    sharedWith: [],
    allowCopy: false,
    replicatedFrom: { region: source.region, imageId: source.imageId },
    createdAt: new Date().toISOString(),
  };
  await store.writeImage(account, targetRegion, copy);
  return waitUntilCopied(store, account, targetRegion, copy);
}

/**
 * A copy the region is still making: waited for, heartbeating every second, so the wait
 * may last as long as the activity's limit allows while a dead worker is noticed at once.
 * Whichever attempt sees it due marks it available (a rename: a repeat is harmless).
 */
async function waitUntilCopied(store: LocalStore, account: string, region: string, image: LocalImage): Promise<ImageRef> {
  const done = { region, imageId: image.imageId, imageName: image.imageName };
  if (image.state !== 'pending') return done;
  for (;;) {
    const leftMs = Date.parse(image.readyAt ?? '') - Date.now();
    if (!(leftMs > 0)) break;
    heartbeatIfInActivity({ waitingFor: image.imageId, region, state: 'pending', secondsLeft: Math.ceil(leftMs / 1000) });
    await sleep(Math.min(leftMs, 1000), undefined, { signal: activitySignal() });
  }
  const { readyAt: _readyAt, ...ready } = image;
  await store.writeImage(account, region, { ...ready, state: 'available' });
  return done;
}
