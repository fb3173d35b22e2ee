import type { Gallery, SharingProfileGroup } from '@azure/arm-compute';
import type { AzureImageOptions } from '../../schemas/release-plan.js';
import { nonRetryable } from '../common/errors.js';
import { armGetOrUndefined } from './arm-errors.js';
import type { AzureClients } from './clients.js';
import { galleryOf } from './gallery.js';
import { untilDone, type LroSettings } from './lro.js';

type GalleryOptions = NonNullable<AzureImageOptions['gallery']>;

const COMMUNITY_HOW =
  'Azure shows a community gallery with its publisher URI, contact e-mail, EULA and public name prefix, which only its owner can give: make it one first (az sig create, or az sig update for a gallery that exists, --gallery-name G --resource-group RG --permissions Community --publisher-uri … --publisher-email … --eula … --public-name-prefix …), or share with subscriptions and tenants instead';

/** share_with's `subscription:<id>` and `tenant:<id>` as Azure's sharing groups (one per type). */
export function sharingGroups(shareWith: readonly string[]): SharingProfileGroup[] {
  const ids = (prefix: string) =>
    shareWith.filter((t) => t.startsWith(`${prefix}:`)).map((t) => t.slice(prefix.length + 1).toLowerCase());
  const groups: SharingProfileGroup[] = [
    { type: 'Subscriptions', ids: ids('subscription') },
    { type: 'AADTenants', ids: ids('tenant') },
  ];
  return groups.filter((g) => g.ids!.length > 0);
}

/** The groups in `wanted` the gallery does not share with yet (ids compare case-insensitively, as Azure's). */
export function missingGroups(
  wanted: readonly SharingProfileGroup[],
  current: readonly SharingProfileGroup[] = [],
): SharingProfileGroup[] {
  return wanted
    .map((group) => {
      const have = new Set(
        current
          .filter((g) => g.type?.toLowerCase() === group.type?.toLowerCase())
          .flatMap((g) => g.ids ?? [])
          .map((id) => id.toLowerCase()),
      );
      return { type: group.type, ids: (group.ids ?? []).filter((id) => !have.has(id.toLowerCase())) };
    })
    .filter((g) => g.ids.length > 0);
}

/** Groups are returned only with `$select=Permissions` (galleries/get). */
function getGallery(c: AzureClients, g: GalleryOptions): Promise<Gallery | undefined> {
  return armGetOrUndefined(`galleries.get ${g.name}`, () =>
    c.compute.galleries.get(g.resourceGroup, g.name, { select: 'Permissions' }),
  );
}

/**
 * Before anything is uploaded or made for share_with "all": the gallery must be a community
 * gallery already, which only its owner can arrange. Checked when the upload opens (and
 * again in create), so a release never uploads, tests and replicates an image that publish
 * then cannot share.
 */
export async function checkCommunityGallery(
  c: AzureClients,
  g: GalleryOptions,
  nothing = 'nothing was uploaded',
): Promise<void> {
  const gallery = await getGallery(c, g);
  if (gallery?.sharingProfile?.permissions === 'Community') return;
  const state = gallery
    ? `has sharing permissions "${gallery.sharingProfile?.permissions ?? 'Private'}"`
    : 'does not exist (Imagecast would make it private)';
  throw nonRetryable(
    'CloudInvalidRequest',
    `share_with "all" publishes gallery ${g.name} as a community gallery, but it ${state}: ${COMMUNITY_HOW}; ${nothing}`,
    { gallery: g.name },
  );
}

/**
 * Imagecast's Azure publish: who may use the gallery's images. Azure shares a whole gallery
 * (every definition and version in it), never one version: "all" enables the community
 * gallery; a list adds those subscriptions and tenants to a direct shared gallery, turning a
 * private gallery into one (permissions "Groups") first. Idempotent: what is already
 * shared is not asked again, and parallel calls for each region ask the same.
 */
export async function shareGallery(
  c: AzureClients,
  options: AzureImageOptions,
  shareWith: 'all' | 'none' | string[],
  lro: LroSettings,
): Promise<void> {
  if (shareWith === 'none') return;
  const g = galleryOf(options);
  const gallery = await getGallery(c, g);
  if (!gallery) {
    throw nonRetryable(
      'CloudInvalidRequest',
      `gallery ${g.name} in ${g.resourceGroup} is gone: nothing to share`,
      {
        gallery: g.name,
      },
    );
  }
  const profile = gallery.sharingProfile;
  const share = (operationType: 'Add' | 'EnableCommunity', groups?: SharingProfileGroup[]) =>
    untilDone(`gallerySharingProfile.update ${g.name} ${operationType}`, () =>
      c.compute.gallerySharingProfile.beginUpdate(
        g.resourceGroup,
        g.name,
        { operationType, ...(groups && { groups }) },
        { updateIntervalInMs: lro.pollMs },
      ),
    );
  if (shareWith === 'all') {
    if (profile?.permissions !== 'Community')
      await checkCommunityGallery(c, g, 'the images are kept private');
    if (!profile?.communityGalleryInfo?.communityGalleryEnabled) await share('EnableCommunity');
    return;
  }
  if (profile?.permissions === 'Community') {
    throw nonRetryable(
      'CloudInvalidRequest',
      `gallery ${g.name} is a community gallery (everyone may use it): Azure shares a gallery with subscriptions and tenants only when its permissions are "Groups"; use share_with "all", or another gallery`,
      { gallery: g.name },
    );
  }
  if (profile?.permissions !== 'Groups') {
    await untilDone(`galleries.update ${g.name} permissions Groups`, () =>
      c.compute.galleries.beginUpdate(
        g.resourceGroup,
        g.name,
        { sharingProfile: { permissions: 'Groups' } },
        { updateIntervalInMs: lro.pollMs },
      ),
    );
  }
  const missing = missingGroups(sharingGroups(shareWith), profile?.groups);
  if (missing.length > 0) await share('Add', missing);
}
