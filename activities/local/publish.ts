import { nonRetryable } from '../common/errors.js';
import type { PublishImageInput } from '../provider.js';
import type { LocalStore } from './store.js';

/** `all` makes the image public, `none` private, a list of accounts shares it with them. */
export async function publishLocalImage(store: LocalStore, input: PublishImageInput): Promise<void> {
  const { release, image, shareWith } = input;
  const closed = await store.closedReason(release.account, image.region, 'publishing');
  if (closed) throw nonRetryable('CloudPermissionDenied', `local region ${image.region} of ${release.account} refuses publishing: ${closed}`);
  const blocked = shareWith === 'all' && (await store.closedReason(release.account, image.region, 'public'));
  if (blocked) throw nonRetryable('CloudPermissionDenied', `local region ${image.region} of ${release.account} blocks public images: ${blocked}`);
  const current = await store.readImage(release.account, image.region, image.imageId);
  if (!current) {
    throw nonRetryable(
      'CloudInvalidRequest',
      `image ${image.imageId} is missing from local ${release.account}/${image.region}`,
    );
  }
  const sharedWith = Array.isArray(shareWith) ? [...new Set(shareWith)].sort() : [];
  await store.writeImage(release.account, image.region, {
    ...current,
    visibility:
      shareWith === 'all' ? 'public' : shareWith === 'none' || sharedWith.length === 0 ? 'private' : 'shared',
    sharedWith,
    allowCopy: input.allowCopy,
  });
}
