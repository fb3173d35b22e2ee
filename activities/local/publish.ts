import type { PublishImageInput } from '../provider.js';
import type { LocalStore } from './store.js';

/** Public for `all`, shared with the named accounts, or private for `none`. */
export async function publishLocalImage(store: LocalStore, input: PublishImageInput): Promise<void> {
  const { release, image, shareWith } = input;
  const current = await store.readImage(release.account, image.region, image.imageId);
  if (!current) throw new Error(`image ${image.imageId} is missing from ${release.account}/${image.region}`);
  await store.writeImage(release.account, image.region, {
    ...current,
    visibility: shareWith === 'all' ? 'public' : shareWith === 'none' ? 'private' : 'shared',
    sharedWith: Array.isArray(shareWith) ? shareWith : [],
    allowCopy: input.allowCopy,
  });
}
