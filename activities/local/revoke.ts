import { nonRetryable } from '../common/errors.js';
import type { RestoreImageInput, WithdrawImageInput } from '../provider.js';
import type { LocalStore } from './store.js';

/**
 * Revoke's withdrawal: the image is private again (no public flag, no accounts) and deprecated
 * now, pointing at the image people should use instead. Its disk stays: those who run it keep
 * running it, as in the real clouds. A region closed to deprecation (CLOSED-DEPRECATE) refuses.
 */
export async function withdrawLocalImage(store: LocalStore, input: WithdrawImageInput): Promise<void> {
  const { release, image, replacement } = input;
  await refuseWhereClosed(store, release.account, image.region);
  const current = await store.readImage(release.account, image.region, image.imageId);
  if (!current) return; // deleted meanwhile: nobody can launch it
  await store.writeImage(release.account, image.region, {
    ...current,
    state: 'deprecated',
    visibility: 'private',
    sharedWith: [],
    deprecatedAt: current.deprecatedAt ?? new Date().toISOString(),
    ...(replacement
      ? { replacement: { imageId: replacement.imageId, imageName: replacement.imageName } }
      : {}),
  });
}

/** Revoke's restoration: an image the revoked release had deprecated is available again, shared as it was. */
export async function restoreLocalImage(store: LocalStore, input: RestoreImageInput): Promise<void> {
  const { release, image } = input;
  await refuseWhereClosed(store, release.account, image.region);
  const current = await store.readImage(release.account, image.region, image.imageId);
  if (!current) {
    throw nonRetryable(
      'CloudInvalidRequest',
      `image ${image.imageId} is gone from local ${release.account}/${image.region}: it cannot be made current again`,
    );
  }
  if (current.state === 'available') return;
  const { deprecatedAt: _deprecatedAt, replacement: _replacement, ...rest } = current;
  await store.writeImage(release.account, image.region, { ...rest, state: 'available' });
}

async function refuseWhereClosed(store: LocalStore, account: string, region: string): Promise<void> {
  const closed = await store.closedReason(account, region, 'deprecation');
  if (closed)
    throw nonRetryable(
      'CloudPermissionDenied',
      `local region ${region} of ${account} refuses deprecation changes: ${closed}`,
    );
}
