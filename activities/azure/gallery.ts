import { setTimeout as sleep } from 'node:timers/promises';
import type { GalleryImageVersion } from '@azure/arm-compute';
import { azureGalleryImageVersion } from '../../schemas/job/azure-names.js';
import type { AzureImageOptions } from '../../schemas/release-plan.js';
import { activitySignal, heartbeatIfInActivity } from '../common/activity-heartbeat.js';
import { nonRetryable } from '../common/errors.js';
import type { CloudImage, CreateImageInput, ImageRef, ReleaseRef } from '../provider.js';
import { arm, armGetOrUndefined, classifyArmError, isArmNotFound } from './arm-errors.js';
import type { AzureClients } from './clients.js';
import { deleted, untilDone, type LroSettings } from './lro.js';
import { IMAGE_NAME_TAG, TOKEN_TAG, madeBy, parseArmId, releaseTags } from './tags.js';

type Gallery = NonNullable<AzureImageOptions['gallery']>;

/** "West Europe" (how replication status names regions) and "westeurope" (how jobs do) are one region. */
export const regionKey = (region: string) => region.toLowerCase().replace(/\s+/g, '');

export function galleryOf(options: AzureImageOptions): Gallery {
  if (!options.gallery) throw new Error('internal: a gallery call without gallery options');
  return options.gallery;
}

export function versionName(imageName: string): string {
  // The job schema refuses gallery jobs whose name has no date; reaching here without one is a bug.
  const version = azureGalleryImageVersion(imageName);
  if (!version) throw new Error(`internal: "${imageName}" has no YYYYMMDD date for a gallery image version`);
  return version;
}

/** The gallery and the definitions, created when missing as plume does (mash needs them made by hand). */
async function ensureDefinitions(
  c: AzureClients,
  g: Gallery,
  region: string,
  architecture: 'x86_64' | 'aarch64',
  lro: LroSettings,
) {
  const gallery = await armGetOrUndefined(`galleries.get ${g.name}`, () =>
    c.compute.galleries.get(g.resourceGroup, g.name),
  );
  if (!gallery) {
    await untilDone(`galleries.createOrUpdate ${g.name}`, () =>
      c.compute.galleries.beginCreateOrUpdate(
        g.resourceGroup,
        g.name,
        { location: region, description: 'Made by Imagecast' },
        { updateIntervalInMs: lro.pollMs },
      ),
    );
  }
  for (const d of g.definitions) {
    const existing = await armGetOrUndefined(`galleryImages.get ${d.name}`, () =>
      c.compute.galleryImages.get(g.resourceGroup, g.name, d.name),
    );
    if (existing) {
      const has = existing.features?.find((f) => f.name === 'SecurityType')?.value;
      if (g.securityType && d.hyperVGeneration === 'V2' && has !== g.securityType) {
        throw nonRetryable(
          'CloudInvalidRequest',
          `gallery image definition ${g.name}/${d.name} has SecurityType ${has ?? '(none: Standard)'} but the job asks security_type ${g.securityType}: a definition's features cannot change; use another sku or generation_id, or the definition's own security type`,
          { definition: d.name },
        );
      }
      if (existing.hyperVGeneration && existing.hyperVGeneration !== d.hyperVGeneration) {
        throw nonRetryable(
          'CloudInvalidRequest',
          `gallery image definition ${g.name}/${d.name} is Hyper-V ${existing.hyperVGeneration} but this image needs ${d.hyperVGeneration} (boot_firmware): use a definition of that generation (another sku or generation_id)`,
          { definition: d.name },
        );
      }
      continue;
    }
    await untilDone(`galleryImages.createOrUpdate ${d.name}`, () =>
      c.compute.galleryImages.beginCreateOrUpdate(
        g.resourceGroup,
        g.name,
        d.name,
        {
          location: region,
          osType: 'Linux',
          osState: 'Generalized',
          hyperVGeneration: d.hyperVGeneration,
          architecture: architecture === 'aarch64' ? 'Arm64' : 'x64',
          identifier: { publisher: g.publisher ?? 'imagecast', offer: g.offer ?? d.name, sku: d.plan },
          // Generation 2 images may boot with Trusted Launch or without (the VM chooses), unless the job says otherwise.
          ...(d.hyperVGeneration === 'V2' && {
            features: [{ name: 'SecurityType', value: g.securityType ?? 'TrustedLaunchSupported' }],
          }),
        },
        { updateIntervalInMs: lro.pollMs },
      ),
    );
  }
}

/**
 * mash's gallery image version (YYYY.MM.DD of the name's date) in each definition, from the
 * page blob, replicated to the home region only (the replicate step adds the others). A
 * version of this run is kept (a retry); one of another release is refused, or replaced
 * with force_replace_image. The first definition's version is the release's image; the
 * others (generation_id) follow it by version name and release token.
 */
export async function createGalleryVersions(
  c: AzureClients,
  input: CreateImageInput,
  options: AzureImageOptions,
  lro: LroSettings,
): Promise<ImageRef> {
  const g = galleryOf(options);
  const region = input.disk.region;
  const version = versionName(input.imageName);
  await ensureDefinitions(c, g, region, input.architecture, lro);
  const storageAccountId = `/subscriptions/${c.subscriptionId}/resourceGroups/${options.resourceGroup}/providers/Microsoft.Storage/storageAccounts/${options.storageAccount}`;
  const ids: string[] = [];
  for (const d of g.definitions) {
    const where = `${g.name}/${d.name}/${version}`;
    const existing = await getVersion(c, g, d.name, version);
    if (existing && madeBy(existing.tags, input.release) && existing.provisioningState === 'Succeeded') {
      ids.push(existing.id!);
      continue;
    }
    if (existing && !madeBy(existing.tags, input.release) && !options.forceReplace) {
      throw nonRetryable(
        'ImageAlreadyExists',
        `gallery image version ${where} already exists and was not made by this release: remove it, or set force_replace_image to replace it`,
        { imageName: input.imageName, imageId: existing.id },
      );
    }
    if (existing) await deleteVersion(c, g.resourceGroup, g.name, d.name, version, lro);
    const made = await untilDone(`galleryImageVersions.createOrUpdate ${where}`, () =>
      c.compute.galleryImageVersions.beginCreateOrUpdate(
        g.resourceGroup,
        g.name,
        d.name,
        version,
        {
          location: region,
          publishingProfile: {
            targetRegions: [{ name: region, regionalReplicaCount: g.regionalReplicaCount ?? 1 }],
            excludeFromLatest: false,
          },
          storageProfile: {
            osDiskImage: { source: { storageAccountId, uri: input.disk.diskId }, hostCaching: 'ReadWrite' },
          },
          tags: { ...releaseTags(input.release), [IMAGE_NAME_TAG]: input.imageName },
        },
        { updateIntervalInMs: lro.pollMs },
      ),
    );
    ids.push(made.id!);
  }
  return { region, imageId: ids[0]!, imageName: input.imageName };
}

function getVersion(
  c: AzureClients,
  g: { resourceGroup: string; name: string },
  definition: string,
  version: string,
): Promise<GalleryImageVersion | undefined> {
  return armGetOrUndefined(`galleryImageVersions.get ${g.name}/${definition}/${version}`, () =>
    c.compute.galleryImageVersions.get(g.resourceGroup, g.name, definition, version, {
      expand: 'ReplicationStatus',
    }),
  );
}

function deleteVersion(
  c: AzureClients,
  resourceGroup: string,
  gallery: string,
  definition: string,
  version: string,
  lro: LroSettings,
) {
  return deleted(`galleryImageVersions.delete ${gallery}/${definition}/${version}`, () =>
    c.compute.galleryImageVersions.beginDelete(resourceGroup, gallery, definition, version, {
      updateIntervalInMs: lro.pollMs,
    }),
  );
}

/** One gallery image version of a release's image, with what Azure says of it now. */
export interface ReleaseVersion {
  resourceGroup: string;
  gallery: string;
  definition: string;
  version: string;
  current: GalleryImageVersion;
}

/**
 * The versions that make up one release's image: the one `imageId` names and the same
 * version in the gallery's other definitions made by the same run (generation_id's).
 */
export async function versionsOf(
  c: AzureClients,
  imageId: string,
): Promise<ReleaseVersion[]> {
  const { resourceGroup, names } = parseArmId(imageId);
  const [gallery, definition, version] = names as [string, string, string];
  const primary = await getVersion(c, { resourceGroup, name: gallery }, definition, version);
  if (!primary) return [];
  const token = primary.tags?.[TOKEN_TAG];
  const all: ReleaseVersion[] = [{ resourceGroup, gallery, definition, version, current: primary }];
  if (!token) return all;
  for await (const d of c.compute.galleryImages.listByGallery(resourceGroup, gallery)) {
    if (!d.name || d.name === definition) continue;
    const other = await getVersion(c, { resourceGroup, name: gallery }, d.name, version);
    if (other?.tags?.[TOKEN_TAG] === token)
      all.push({ resourceGroup, gallery, definition: d.name, version, current: other });
  }
  return all;
}

/**
 * Replicate, better than mash (which replicates nothing on Azure): the version's target
 * regions become the home region plus every replica region (each parallel call sets the
 * same full list, so none undoes another), then this call waits for its own region's
 * replication status. A region that fails fails this call only; the others go on.
 */
export async function replicateGalleryVersion(
  c: AzureClients,
  source: ImageRef,
  targetRegion: string,
  options: AzureImageOptions,
  lro: LroSettings,
): Promise<ImageRef> {
  const g = galleryOf(options);
  const wanted = [source.region, ...(g.replicaRegions ?? [])];
  const versions = await versionsOf(c, source.imageId);
  if (versions.length === 0)
    throw nonRetryable(
      'CloudInvalidRequest',
      `gallery image version ${source.imageId} is gone: it cannot be replicated`,
    );
  for (const v of versions) {
    const have = new Set((v.current.publishingProfile?.targetRegions ?? []).map((t) => regionKey(t.name)));
    if (wanted.every((r) => have.has(regionKey(r)))) continue;
    // Azure's update operation ends only once every region has its replica (hours for big
    // images): the update is accepted here and each region's progress is watched below.
    await arm(`galleryImageVersions.update ${v.gallery}/${v.definition}/${v.version}`, async () => {
      const poller = await c.compute.galleryImageVersions.beginUpdate(
        v.resourceGroup,
        v.gallery,
        v.definition,
        v.version,
        {
          publishingProfile: {
            targetRegions: wanted.map((name) => ({
              name,
              regionalReplicaCount: g.regionalReplicaCount ?? 1,
            })),
          },
        },
        { updateIntervalInMs: lro.pollMs },
      );
      poller.stopPolling();
    });
  }
  for (const v of versions) await waitForRegion(c, v, targetRegion, lro);
  return { region: targetRegion, imageId: source.imageId, imageName: source.imageName };
}

async function waitForRegion(
  c: AzureClients,
  v: { resourceGroup: string; gallery: string; definition: string; version: string },
  region: string,
  lro: LroSettings,
): Promise<void> {
  const where = `${v.gallery}/${v.definition}/${v.version}`;
  for (;;) {
    const current = await getVersion(
      c,
      { resourceGroup: v.resourceGroup, name: v.gallery },
      v.definition,
      v.version,
    );
    if (!current)
      throw nonRetryable(
        'CloudInvalidRequest',
        `gallery image version ${where} was deleted while replicating to ${region}`,
      );
    const status = current.replicationStatus?.summary?.find(
      (s) => s.region && regionKey(s.region) === regionKey(region),
    );
    if (status?.state === 'Completed') return;
    if (status?.state === 'Failed') {
      throw nonRetryable(
        'CloudInvalidRequest',
        `replication of ${where} to ${region} failed: ${status.details ?? 'Azure gave no details'}`,
        { region, version: where },
      );
    }
    heartbeatIfInActivity({
      waitingFor: `replication of ${where} to ${region}`,
      state: status?.state ?? 'not started',
      progress: status?.progress,
    });
    await sleep(lro.pollMs, undefined, { signal: activitySignal() });
  }
}

export async function findGalleryVersion(
  c: AzureClients,
  options: AzureImageOptions,
  region: string,
  imageName: string,
): Promise<CloudImage | undefined> {
  const g = galleryOf(options);
  const version = azureGalleryImageVersion(imageName);
  const d = g.definitions[0];
  if (!version || !d) return undefined;
  const v = await getVersion(c, g, d.name, version);
  if (!v?.id) return undefined;
  const inRegion = (v.publishingProfile?.targetRegions ?? []).some(
    (t) => regionKey(t.name) === regionKey(region),
  );
  if (!inRegion) return undefined;
  const p = v.publishingProfile;
  const state =
    p?.excludeFromLatest || (p?.endOfLifeDate && p.endOfLifeDate.getTime() <= Date.now())
      ? 'deprecated'
      : v.provisioningState === 'Succeeded'
        ? 'available'
        : v.provisioningState === 'Failed'
          ? 'failed'
          : 'pending';
  return {
    region,
    imageId: v.id,
    // The name it was made for: another image of the same day holds the version too.
    imageName: v.tags?.[IMAGE_NAME_TAG] ?? imageName,
    state,
    releaseToken: v.tags?.[TOKEN_TAG],
    visibility: 'private',
  };
}

/**
 * Deprecate, also better than mash (nothing): the replaced version, in every definition of
 * its release, reaches its end of life now and leaves "latest", so new VMs from the
 * definition get the replacement while existing ones keep running.
 */
export async function deprecateGalleryVersion(
  c: AzureClients,
  image: ImageRef,
  lro: LroSettings,
  now = new Date(),
): Promise<{ deleteAfter?: string }> {
  for (const v of await versionsOf(c, image.imageId)) {
    const p = v.current.publishingProfile;
    if (p?.excludeFromLatest && p.endOfLifeDate) continue;
    await setVersionLifecycle(c, v, { excludeFromLatest: true, endOfLifeDate: now }, lro);
  }
  return {};
}

/**
 * Puts one version in or out of "latest" and sets or clears (null) its end of life: what
 * deprecate and revoke change, and revoke's restoration changes back.
 */
export async function setVersionLifecycle(
  c: AzureClients,
  v: ReleaseVersion,
  lifecycle: { excludeFromLatest: boolean; endOfLifeDate: Date | null },
  lro: LroSettings,
): Promise<void> {
  // The SDK's type has no null; the REST body does (ARM's PATCH removes the property, RFC 7396).
  const endOfLifeDate = lifecycle.endOfLifeDate ?? (null as unknown as Date);
  await untilDone(`galleryImageVersions.update ${v.gallery}/${v.definition}/${v.version}`, () =>
    c.compute.galleryImageVersions.beginUpdate(
      v.resourceGroup,
      v.gallery,
      v.definition,
      v.version,
      { publishingProfile: { excludeFromLatest: lifecycle.excludeFromLatest, endOfLifeDate } },
      { updateIntervalInMs: lro.pollMs },
    ),
  );
}

/** The version in every definition of its release; ones already gone are fine. */
export async function deleteGalleryVersions(
  c: AzureClients,
  imageId: string,
  lro: LroSettings,
): Promise<void> {
  for (const v of await versionsOf(c, imageId))
    await deleteVersion(c, v.resourceGroup, v.gallery, v.definition, v.version, lro);
}

/** Versions this run left in the release's definitions (create failed after the call was accepted). */
export async function discardGalleryVersions(
  c: AzureClients,
  options: AzureImageOptions,
  release: ReleaseRef,
  lro: LroSettings,
): Promise<void> {
  const g = galleryOf(options);
  for (const d of g.definitions) {
    const ours: string[] = [];
    try {
      for await (const v of c.compute.galleryImageVersions.listByGalleryImage(
        g.resourceGroup,
        g.name,
        d.name,
      )) {
        if (v.name && madeBy(v.tags, release)) ours.push(v.name);
      }
    } catch (error) {
      // No gallery or definition: this run made nothing there.
      if (isArmNotFound(error)) continue;
      throw classifyArmError(error, `galleryImageVersions.listByGalleryImage ${g.name}/${d.name}`);
    }
    for (const version of ours) await deleteVersion(c, g.resourceGroup, g.name, d.name, version, lro);
  }
}
