import { setTimeout as sleep } from 'node:timers/promises';
import type { Image, Snapshot } from '@azure/arm-compute';
import { azureRegionalImageName } from '../../schemas/job/azure-names.js';
import type { AzureImageOptions } from '../../schemas/release-plan.js';
import { activitySignal, heartbeatIfInActivity } from '../common/activity-heartbeat.js';
import { nonRetryable } from '../common/errors.js';
import type { ImageRef, ReleaseRef } from '../provider.js';
import { arm, armGetOrUndefined, classifyArmError, isArmNotFound } from './arm-errors.js';
import { azure, isBlobNotFound } from './azure-errors.js';
import type { AzureClients } from './clients.js';
import { regionKey } from './gallery.js';
import { deleted, untilDone, type LroSettings } from './lro.js';
import { parseBlobUrl } from './page-blobs.js';
import { madeBy, parseArmId, releaseTags } from './tags.js';

// Azure cannot copy a managed image, so the replicate step does what Microsoft documents for
// moving a disk's content across regions
// (https://learn.microsoft.com/azure/virtual-machines/disks-copy-incremental-snapshot-across-regions):
// once per release, in the home region, a managed disk imported from the uploaded VHD and an
// incremental snapshot of it; per target region, a CopyStart copy of that snapshot, the
// managed images from the copy, then the copy is deleted (the images keep their own data).

/** On the uploaded blob: the resource group of the release's copy source, for deleteDisk (which gets only the blob). */
export const COPY_GROUP_KEY = 'imagecastcopygroup';

/** The home disk and its snapshot (one per release: the run's token in the name, within 80 characters). */
export const copySourceName = (release: ReleaseRef) => `ic-${release.releaseToken}`;
const regionalSnapshotName = (release: ReleaseRef, region: string) =>
  `${copySourceName(release)}-${regionKey(region)}`;

const poll = (lro: LroSettings) => ({ updateIntervalInMs: lro.pollMs });

/** Notes the copy source's resource group on the blob, keeping what the upload wrote there. */
async function markBlob(c: AzureClients, blobUri: string, resourceGroup: string): Promise<void> {
  const { storageAccount, container, blobName } = parseBlobUrl(blobUri);
  const blob = c.blobService(storageAccount).getContainerClient(container).getBlobClient(blobName);
  const where = { account: storageAccount, container };
  const properties = await azure('read blob properties', where, () => blob.getProperties());
  if (properties.metadata?.[COPY_GROUP_KEY] === resourceGroup) return;
  await azure('set blob metadata', where, () =>
    blob.setMetadata({ ...properties.metadata, [COPY_GROUP_KEY]: resourceGroup }),
  );
}

/**
 * The release's incremental snapshot in the home region, made once from the blob the home
 * image was made from (its osDisk.blobUri) through a managed disk. Parallel regions may both
 * make it: their PUTs carry the same body.
 */
async function homeSnapshot(
  c: AzureClients,
  release: ReleaseRef,
  home: Image,
  options: AzureImageOptions,
  lro: LroSettings,
): Promise<Snapshot> {
  const group = options.resourceGroup;
  const name = copySourceName(release);
  const existing = await armGetOrUndefined(`snapshots.get ${name}`, () =>
    c.compute.snapshots.get(group, name),
  );
  if (existing && madeBy(existing.tags, release) && existing.provisioningState === 'Succeeded')
    return existing;
  const blobUri = home.storageProfile?.osDisk?.blobUri;
  if (!blobUri || !home.location)
    throw nonRetryable(
      'CloudInvalidRequest',
      `managed image ${home.id} has no source blob to copy to other regions`,
    );
  let disk = await armGetOrUndefined(`disks.get ${name}`, () => c.compute.disks.get(group, name));
  if (!disk || !madeBy(disk.tags, release) || disk.provisioningState !== 'Succeeded') {
    // Before the disk exists, so the cleanup that deletes the blob finds the disk through it.
    await markBlob(c, blobUri, group);
    const storageAccountId = `/subscriptions/${c.subscriptionId}/resourceGroups/${group}/providers/Microsoft.Storage/storageAccounts/${options.storageAccount}`;
    disk = await untilDone(`disks.createOrUpdate ${name}`, () =>
      c.compute.disks.beginCreateOrUpdate(
        group,
        name,
        {
          location: home.location!,
          osType: 'Linux',
          ...(home.hyperVGeneration && { hyperVGeneration: home.hyperVGeneration }),
          creationData: { createOption: 'Import', sourceUri: blobUri, storageAccountId },
          tags: releaseTags(release),
        },
        poll(lro),
      ),
    );
  }
  return untilDone(`snapshots.createOrUpdate ${name}`, () =>
    c.compute.snapshots.beginCreateOrUpdate(
      group,
      name,
      {
        location: home.location!,
        incremental: true,
        creationData: { createOption: 'Copy', sourceResourceId: disk.id! },
        tags: releaseTags(release),
      },
      poll(lro),
    ),
  );
}

/** Until the CopyStart copy in `region` is complete, heartbeating; a failed copy fails this region only. */
async function waitForCopy(
  c: AzureClients,
  group: string,
  name: string,
  region: string,
  lro: LroSettings,
): Promise<Snapshot> {
  for (;;) {
    const copy = await armGetOrUndefined(`snapshots.get ${name}`, () => c.compute.snapshots.get(group, name));
    if (!copy)
      throw nonRetryable('CloudInvalidRequest', `snapshot ${name} was deleted while copying to ${region}`, {
        region,
      });
    const error = copy.copyCompletionError;
    if (error || copy.provisioningState === 'Failed') {
      throw nonRetryable(
        'CloudInvalidRequest',
        `copying the image's snapshot to ${region} failed: ${error ? `${error.errorCode}: ${error.errorMessage}` : 'provisioning failed'}`,
        { region, snapshot: name },
      );
    }
    if (copy.provisioningState === 'Succeeded' && copy.completionPercent === 100) return copy;
    heartbeatIfInActivity({
      waitingFor: `copy of ${name} to ${region}`,
      percent: copy.completionPercent ?? 0,
    });
    await sleep(lro.pollMs, undefined, { signal: activitySignal() });
  }
}

/**
 * Replicate for managed images: the images of `source` in `targetRegion`, named
 * azureRegionalImageName (same resource group, other region). A retry keeps the images this
 * run made there and waits on a copy already started; an image of another release is
 * refused, or replaced with force_replace_image, as in the home region.
 */
export async function replicateManagedImage(
  c: AzureClients,
  release: ReleaseRef,
  source: ImageRef,
  region: string,
  options: AzureImageOptions,
  lro: LroSettings,
): Promise<ImageRef> {
  const group = parseArmId(source.imageId).resourceGroup;
  const images = options.managedImages.map((m) => ({
    name: azureRegionalImageName(source.imageName + m.nameSuffix, regionKey(region)),
    hyperVGeneration: m.hyperVGeneration,
  }));
  const ids = new Map<string, string>();
  const missing: typeof images = [];
  for (const image of images) {
    const existing = await armGetOrUndefined(`images.get ${image.name}`, () =>
      c.compute.images.get(group, image.name),
    );
    if (existing && madeBy(existing.tags, release) && existing.provisioningState === 'Succeeded') {
      ids.set(image.name, existing.id!);
      continue;
    }
    if (existing && !madeBy(existing.tags, release)) {
      if (!options.forceReplace)
        throw nonRetryable(
          'ImageAlreadyExists',
          `a managed image named "${image.name}" already exists in resource group ${group} and was not made by this release: remove it, or set force_replace_image to replace it`,
          { imageName: image.name, imageId: existing.id },
        );
      await deleted(`images.delete ${image.name}`, () =>
        c.compute.images.beginDelete(group, image.name, poll(lro)),
      );
    }
    missing.push(image);
  }
  const snapshotName = regionalSnapshotName(release, region);
  if (missing.length > 0) {
    let copy = await armGetOrUndefined(`snapshots.get ${snapshotName}`, () =>
      c.compute.snapshots.get(group, snapshotName),
    );
    if (copy && (copy.copyCompletionError || copy.provisioningState === 'Failed')) {
      // A region retried after its copy failed (the operator chose to): copy afresh.
      await deleted(`snapshots.delete ${snapshotName}`, () =>
        c.compute.snapshots.beginDelete(group, snapshotName, poll(lro)),
      );
      copy = undefined;
    }
    if (!copy) {
      const homeName = parseArmId(source.imageId).names[0]!;
      const home = await arm(`images.get ${homeName}`, () => c.compute.images.get(group, homeName));
      const from = await homeSnapshot(c, release, home, options, lro);
      await untilDone(`snapshots.createOrUpdate ${snapshotName}`, () =>
        c.compute.snapshots.beginCreateOrUpdate(
          group,
          snapshotName,
          {
            location: region,
            incremental: true,
            creationData: { createOption: 'CopyStart', sourceResourceId: from.id! },
            tags: releaseTags(release),
          },
          poll(lro),
        ),
      );
    }
    const ready = await waitForCopy(c, group, snapshotName, region, lro);
    for (const image of missing) {
      const made = await untilDone(`images.createOrUpdate ${image.name}`, () =>
        c.compute.images.beginCreateOrUpdate(
          group,
          image.name,
          {
            location: region,
            hyperVGeneration: image.hyperVGeneration,
            storageProfile: {
              osDisk: {
                osType: 'Linux',
                osState: 'Generalized',
                snapshot: { id: ready.id! },
                caching: 'ReadWrite',
              },
            },
            tags: releaseTags(release),
          },
          poll(lro),
        ),
      );
      ids.set(image.name, made.id!);
    }
  }
  // The images hold their own copy of the data: the snapshot is no longer needed.
  await deleted(`snapshots.delete ${snapshotName}`, () =>
    c.compute.snapshots.beginDelete(group, snapshotName, poll(lro)),
  );
  return { region, imageId: ids.get(images[0]!.name)!, imageName: source.imageName };
}

/**
 * The release's copy source (home disk, its snapshot) and copies left by a failed region:
 * every disk and snapshot in `group` carrying this run's token. Gone already is fine.
 */
export async function discardCopySources(
  c: AzureClients,
  group: string,
  release: ReleaseRef,
  lro: LroSettings,
): Promise<void> {
  const ours = async (
    list: AsyncIterable<{ name?: string; tags?: Record<string, string> }>,
    what: string,
  ) => {
    const names: string[] = [];
    try {
      for await (const r of list) if (r.name && madeBy(r.tags, release)) names.push(r.name);
    } catch (error) {
      if (!isArmNotFound(error)) throw classifyArmError(error, `${what}.listByResourceGroup ${group}`);
    }
    return names;
  };
  // Snapshots first: the home one was made from the disk.
  for (const name of await ours(c.compute.snapshots.listByResourceGroup(group), 'snapshots'))
    await deleted(`snapshots.delete ${name}`, () => c.compute.snapshots.beginDelete(group, name, poll(lro)));
  for (const name of await ours(c.compute.disks.listByResourceGroup(group), 'disks'))
    await deleted(`disks.delete ${name}`, () => c.compute.disks.beginDelete(group, name, poll(lro)));
}

/** The resource group deleteDisk must clean of the copy source, as noted on the blob; undefined when none was made. */
export async function copyGroupOfBlob(c: AzureClients, blobUri: string): Promise<string | undefined> {
  const { storageAccount, container, blobName } = parseBlobUrl(blobUri);
  const blob = c.blobService(storageAccount).getContainerClient(container).getBlobClient(blobName);
  const properties = await azure('read blob properties', { account: storageAccount, container }, () =>
    blob.getProperties(),
  ).catch((error: unknown) => {
    if (isBlobNotFound(error)) return undefined;
    throw error;
  });
  return properties?.metadata?.[COPY_GROUP_KEY];
}
