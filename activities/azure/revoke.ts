import type { Gallery } from '@azure/arm-compute';
import { nonRetryable } from '../common/errors.js';
import type { ImageRef, RestoreImageInput, WithdrawImageInput } from '../provider.js';
import { arm, armGetOrUndefined } from './arm-errors.js';
import type { AzureClients } from './clients.js';
import { deprecateGalleryVersion, setVersionLifecycle, versionsOf, type ReleaseVersion } from './gallery.js';
import { untilDone, type LroSettings } from './lro.js';
import { deprecateManagedImage, imageResourceNames } from './managed-images.js';
import { DEPRECATED_TAG, parseArmId, REPLACEMENT_TAG, TOKEN_TAG } from './tags.js';

const isGalleryVersion = (image: ImageRef) => parseArmId(image.imageId).type === 'galleries/images/versions';

/**
 * Revoke's withdrawal on Azure. A gallery version (in every definition of its release) gets
 * `endOfLifeDate` now and `excludeFromLatest: true`, as deprecate does: VMs asking for the
 * definition's latest get the replacement, running ones keep theirs. Azure shares a whole
 * gallery, never one version (publish's Groups or Community sharing), so the gallery's sharing
 * is withdrawn (Reset: private) only when the revoked release's versions are all it holds;
 * otherwise unsharing would take every other image, the restored one too, from the people
 * it is shared with. A managed image cannot be shared: it is tagged deprecated. Idempotent;
 * an image already gone is fine.
 */
export async function withdrawAzureImage(
  c: AzureClients,
  input: WithdrawImageInput,
  lro: LroSettings,
  now = new Date(),
): Promise<void> {
  const { image, replacement } = input;
  if (!isGalleryVersion(image)) return deprecateManagedImage(c, image, replacement, lro);
  const versions = await versionsOf(c, image.imageId);
  const token = versions[0]?.current.tags?.[TOKEN_TAG];
  if (versions.length === 0) return; // deleted meanwhile: nobody can launch it
  await deprecateGalleryVersion(c, image, lro, now);
  if (token) await unshareGalleryHoldingOnly(c, versions[0]!, token, lro);
}

/** Resets the gallery's sharing when every version in it is the revoked release's (token). */
async function unshareGalleryHoldingOnly(
  c: AzureClients,
  v: ReleaseVersion,
  token: string,
  lro: LroSettings,
): Promise<void> {
  const gallery: Gallery | undefined = await armGetOrUndefined(`galleries.get ${v.gallery}`, () =>
    c.compute.galleries.get(v.resourceGroup, v.gallery, { select: 'Permissions' }),
  );
  const permissions = gallery?.sharingProfile?.permissions ?? 'Private';
  if (!gallery || permissions === 'Private') return;
  // Images of other releases are shared through the same gallery: they keep their users.
  if (await holdsOtherVersions(c, v, token)) return;
  await untilDone(`gallerySharingProfile.update ${v.gallery} Reset`, () =>
    c.compute.gallerySharingProfile.beginUpdate(
      v.resourceGroup,
      v.gallery,
      { operationType: 'Reset' },
      { updateIntervalInMs: lro.pollMs },
    ),
  );
}

/** Whether the gallery holds a version not made by the run `token` names. */
function holdsOtherVersions(c: AzureClients, v: ReleaseVersion, token: string): Promise<boolean> {
  return arm(`list the versions of gallery ${v.gallery}`, async () => {
    for await (const d of c.compute.galleryImages.listByGallery(v.resourceGroup, v.gallery)) {
      if (!d.name) continue;
      const versions = c.compute.galleryImageVersions.listByGalleryImage(v.resourceGroup, v.gallery, d.name);
      for await (const version of versions) if (version.tags?.[TOKEN_TAG] !== token) return true;
    }
    return false;
  });
}

/**
 * Revoke's restoration on Azure: the version (every definition of its release) is in
 * "latest" again and has no end of life (null clears it: ARM's PATCH merges as RFC 7396
 * says); a managed image loses its deprecation tags. Its gallery's sharing was never
 * touched by the deprecation. Idempotent; an image that is gone cannot be made current.
 */
export async function restoreAzureImage(
  c: AzureClients,
  input: RestoreImageInput,
  lro: LroSettings,
): Promise<void> {
  const { image } = input;
  if (!isGalleryVersion(image)) return restoreManagedImage(c, image, lro);
  const versions = await versionsOf(c, image.imageId);
  if (versions.length === 0) throw gone(image);
  for (const v of versions) {
    const p = v.current.publishingProfile;
    if (!p?.excludeFromLatest && !p?.endOfLifeDate) continue;
    await setVersionLifecycle(c, v, { excludeFromLatest: false, endOfLifeDate: null }, lro);
  }
}

async function restoreManagedImage(c: AzureClients, image: ImageRef, lro: LroSettings): Promise<void> {
  const resourceGroup = parseArmId(image.imageId).resourceGroup;
  let found = 0;
  for (const name of imageResourceNames(image)) {
    const existing = await armGetOrUndefined(`images.get ${name}`, () =>
      c.compute.images.get(resourceGroup, name),
    );
    if (!existing) continue;
    found++;
    const { [DEPRECATED_TAG]: deprecated, [REPLACEMENT_TAG]: replacement, ...tags } = existing.tags ?? {};
    if (deprecated === undefined && replacement === undefined) continue;
    await untilDone(`images.update ${name}`, () =>
      c.compute.images.beginUpdate(resourceGroup, name, { tags }, { updateIntervalInMs: lro.pollMs }),
    );
  }
  if (found === 0) throw gone(image);
}

const gone = (image: ImageRef) =>
  nonRetryable(
    'CloudInvalidRequest',
    `Azure image ${image.imageId} is gone: it cannot be made current again`,
    { imageId: image.imageId },
  );
