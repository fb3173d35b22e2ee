import type { Image } from '@azure/arm-compute';
import { AZURE_UEFI_SUFFIX, azureRegionalImageName } from '../../schemas/job/azure-names.js';
import type { AzureImageOptions } from '../../schemas/release-plan.js';
import { nonRetryable } from '../common/errors.js';
import type { CloudImage, CreateImageInput, ImageRef, ReleaseRef } from '../provider.js';
import { armGetOrUndefined } from './arm-errors.js';
import { deleted, untilDone, type LroSettings } from './lro.js';
import type { AzureClients } from './clients.js';
import { DEPRECATED_TAG, madeBy, parseArmId, releaseTags, REPLACEMENT_TAG, TOKEN_TAG } from './tags.js';
import { regionKey } from './gallery.js';

const names = (imageName: string, options: AzureImageOptions) =>
  options.managedImages.map((m) => ({ ...m, name: imageName + m.nameSuffix }));

/**
 * mash's managed images (one per generation boot_firmware asks for) from the page blob:
 * images.beginCreateOrUpdate, polled as the SDK does (Azure-AsyncOperation, Retry-After).
 * An image of this run is kept (a retry after a lost answer); one of another release is
 * refused, or deleted first with force_replace_image. The first is the release's image; a
 * `_uefi` companion follows it everywhere (delete, deprecate) by name.
 */
export async function createManagedImages(
  c: AzureClients,
  input: CreateImageInput,
  options: AzureImageOptions,
  lro: LroSettings,
): Promise<ImageRef> {
  const region = input.disk.region;
  const made: Image[] = [];
  for (const { name, hyperVGeneration } of names(input.imageName, options)) {
    const existing = await armGetOrUndefined(`images.get ${name}`, () =>
      c.compute.images.get(options.resourceGroup, name),
    );
    if (existing && madeBy(existing.tags, input.release) && existing.provisioningState === 'Succeeded') {
      made.push(existing);
      continue;
    }
    if (existing && !madeBy(existing.tags, input.release)) {
      if (!options.forceReplace) {
        throw nonRetryable(
          'ImageAlreadyExists',
          `a managed image named "${name}" already exists in resource group ${options.resourceGroup} and was not made by this release: remove it, or set force_replace_image to replace it`,
          { imageName: name, imageId: existing.id },
        );
      }
      await deleted(`images.delete ${name}`, () =>
        c.compute.images.beginDelete(options.resourceGroup, name, { updateIntervalInMs: lro.pollMs }),
      );
    }
    const image = await untilDone(`images.createOrUpdate ${name}`, () =>
      c.compute.images.beginCreateOrUpdate(
        options.resourceGroup,
        name,
        {
          location: region,
          hyperVGeneration,
          storageProfile: {
            osDisk: {
              osType: 'Linux',
              osState: 'Generalized',
              blobUri: input.disk.diskId,
              caching: 'ReadWrite',
            },
          },
          tags: releaseTags(input.release),
        },
        { updateIntervalInMs: lro.pollMs },
      ),
    );
    made.push(image);
  }
  const first = made[0];
  if (!first?.id)
    throw new Error(`internal: no managed image for boot_firmware ${input.bootFirmware.join(', ')}`);
  return { region, imageId: first.id, imageName: input.imageName };
}

/**
 * The resource names of a release's images in one region: the primary `imageId` names and its
 * `_uefi` twin (or, for a UEFI-only image, its plain twin, which does not exist), with the
 * region's ending when it is a copy (azureRegionalImageName).
 */
export function imageResourceNames(image: ImageRef): string[] {
  const primary = parseArmId(image.imageId).names[0] ?? image.imageName;
  const uefi = `${image.imageName}${AZURE_UEFI_SUFFIX}`;
  const ending = primary.startsWith(uefi)
    ? primary.slice(uefi.length)
    : primary.startsWith(image.imageName)
      ? primary.slice(image.imageName.length)
      : '';
  return [`${image.imageName}${ending}`, `${uefi}${ending}`];
}

export async function findManagedImage(
  c: AzureClients,
  resourceGroup: string,
  region: string,
  imageName: string,
): Promise<CloudImage | undefined> {
  const get = (name: string) =>
    armGetOrUndefined(`images.get ${name}`, () => c.compute.images.get(resourceGroup, name));
  const inRegion = (i: Image | undefined) =>
    i?.id && (!i.location || regionKey(i.location) === regionKey(region));
  // The home region's image has the name itself; a copy made by replicate, the region's ending.
  let image = await get(imageName);
  if (!inRegion(image)) image = await get(azureRegionalImageName(imageName, regionKey(region)));
  if (!image?.id || !inRegion(image)) return undefined;
  const state = image.tags?.[DEPRECATED_TAG]
    ? 'deprecated'
    : image.provisioningState === 'Succeeded'
      ? 'available'
      : image.provisioningState === 'Failed'
        ? 'failed'
        : 'pending';
  return {
    region,
    imageId: image.id,
    imageName,
    state,
    releaseToken: image.tags?.[TOKEN_TAG],
    visibility: 'private',
  };
}

/** Deletes the image and its `_uefi` companion in the image's region; ones already gone are fine. */
export async function deleteManagedImages(c: AzureClients, image: ImageRef, lro: LroSettings): Promise<void> {
  const resourceGroup = parseArmId(image.imageId).resourceGroup;
  for (const name of imageResourceNames(image)) {
    await deleted(`images.delete ${name}`, () =>
      c.compute.images.beginDelete(resourceGroup, name, { updateIntervalInMs: lro.pollMs }),
    );
  }
}

/**
 * Azure has no deprecation state for managed images: the retired image is tagged deprecated
 * with its replacement's id, which `find` reports as `deprecated` and people see in the portal.
 */
export async function deprecateManagedImage(
  c: AzureClients,
  image: ImageRef,
  replacement: ImageRef | undefined,
  lro: LroSettings,
): Promise<void> {
  const resourceGroup = parseArmId(image.imageId).resourceGroup;
  for (const name of imageResourceNames(image)) {
    const existing = await armGetOrUndefined(`images.get ${name}`, () =>
      c.compute.images.get(resourceGroup, name),
    );
    if (!existing) continue;
    const tags = {
      ...existing.tags,
      [DEPRECATED_TAG]: 'true',
      // A revoked image whose release replaced nothing has no replacement to name.
      ...(replacement && { [REPLACEMENT_TAG]: replacement.imageId.slice(-256) }),
    };
    if (Object.entries(tags).every(([k, v]) => existing.tags?.[k] === v)) continue;
    await untilDone(`images.update ${name}`, () =>
      c.compute.images.beginUpdate(resourceGroup, name, { tags }, { updateIntervalInMs: lro.pollMs }),
    );
  }
}

/** Managed images this run left half-made (create failed after the call was accepted). */
export async function discardManagedImages(
  c: AzureClients,
  resourceGroup: string,
  release: ReleaseRef,
  lro: LroSettings,
): Promise<void> {
  const ours: string[] = [];
  for await (const image of c.compute.images.listByResourceGroup(resourceGroup)) {
    if (image.name && madeBy(image.tags, release)) ours.push(image.name);
  }
  for (const name of ours) {
    await deleted(`images.delete ${name}`, () =>
      c.compute.images.beginDelete(resourceGroup, name, { updateIntervalInMs: lro.pollMs }),
    );
  }
}
