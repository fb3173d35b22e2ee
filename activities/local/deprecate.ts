import { nonRetryable } from '../common/errors.js';
import type { DeprecateImageInput } from '../provider.js';
import type { LocalStore } from './store.js';

/**
 * Marks the old image deprecated and points it at its replacement. It stays bootable, as a
 * deprecated image does in the real clouds; only cleanup deletes it.
 */
export async function deprecateLocalImage(store: LocalStore, input: DeprecateImageInput): Promise<void> {
  const { release, image, replacement } = input;
  const closed = await store.closedReason(release.account, image.region, 'deprecation');
  if (closed) throw nonRetryable('CloudPermissionDenied', `local region ${image.region} of ${release.account} refuses deprecation: ${closed}`);
  const current = await store.readImage(release.account, image.region, image.imageId);
  if (!current) return; // deleted meanwhile: nothing left to deprecate
  if (current.state === 'deprecated' && current.replacement?.imageId === replacement.imageId) return;
  await store.writeImage(release.account, image.region, {
    ...current,
    state: 'deprecated',
    deprecatedAt: current.deprecatedAt ?? new Date().toISOString(),
    replacement: { imageId: replacement.imageId, imageName: replacement.imageName },
  });
}
