// What the Azure provider tests share: the emulators with a provider on them, a release of the
// test account, the image options of a managed-image or gallery release, and the upload +
// create calls that make an image to work on.
import type { CloudProvider, ImageRef, ReleaseRef, UploadedDisk } from '../../activities/provider.js';
import type { AzureImageOptions } from '../../schemas/release-plan.js';
import {
  AZURE_CONTAINER,
  AZURE_GALLERY_GROUP,
  AZURE_RESOURCE_GROUP,
  AZURE_STORAGE_ACCOUNT,
  startAzureEmulator,
  type AzureEmulator,
} from './azure-emulator.js';

/** Azurite and the ARM fake with the Azure provider on them, for a suite's `before`; `az.stop()` ends both. */
export async function startAzureProvider(): Promise<{ az: AzureEmulator; cloud: CloudProvider }> {
  const az = await startAzureEmulator();
  return { az, cloud: az.provider() };
}

export const azureRelease = (token: string): ReleaseRef => ({
  releaseId: `release-${token}`,
  releaseToken: token,
  cloud: 'azure',
  account: 'azure-pub',
});

/** A managed-image release (V1 and V2 `_uefi`) into the emulator's storage account. */
export const MANAGED_OPTIONS: AzureImageOptions = {
  cloud: 'azure',
  storageAccount: AZURE_STORAGE_ACCOUNT,
  container: AZURE_CONTAINER,
  resourceGroup: AZURE_RESOURCE_GROUP,
  managedImages: [
    { nameSuffix: '', hyperVGeneration: 'V1' },
    { nameSuffix: '_uefi', hyperVGeneration: 'V2' },
  ],
  forceReplace: false,
  architecture: 'x86_64',
};

type GalleryOptions = NonNullable<AzureImageOptions['gallery']>;

/**
 * A gallery release (no managed images) into `gallery.name` in the emulator's gallery group:
 * versions in its `_gen1` (V1) and `_gen2` (V2) definitions, offer the gallery's name, no
 * replicas, unless `gallery` says otherwise.
 */
export const galleryOptions = (
  gallery: Pick<GalleryOptions, 'name'> & Partial<GalleryOptions>,
): AzureImageOptions => ({
  ...MANAGED_OPTIONS,
  managedImages: [],
  gallery: {
    resourceGroup: AZURE_GALLERY_GROUP,
    definitions: [
      { name: `${gallery.name}_gen1`, plan: 'gen1', hyperVGeneration: 'V1' },
      { name: `${gallery.name}_gen2`, plan: 'gen2', hyperVGeneration: 'V2' },
    ],
    publisher: 'imagecast',
    offer: gallery.name,
    replicaRegions: [],
    regionalReplicaCount: 1,
    ...gallery,
  },
});

/** A committed page blob of `mib` MiB of `fill`, as the upload step leaves it. */
export async function uploadTestDisk(
  cloud: CloudProvider,
  release: ReleaseRef,
  imageName: string,
  options: AzureImageOptions,
  { mib = 2, fill = 7 }: { mib?: number; fill?: number } = {},
): Promise<UploadedDisk> {
  const size = mib * 1024 * 1024;
  const writer = await cloud.openDiskWriter({
    release,
    region: 'westeurope',
    checksum: { algorithm: 'sha256', hex: '0'.repeat(64) },
    resumeFromOffset: 0,
    imageName,
    diskSizeBytes: size,
    options,
  });
  if (size > 0) await writer.writeBlock(0, Buffer.alloc(size, fill));
  return writer.commit(size, size);
}

/** The create step on an uploaded disk. */
export function createTestImage(
  cloud: CloudProvider,
  release: ReleaseRef,
  disk: UploadedDisk,
  imageName: string,
  options: AzureImageOptions,
  bootFirmware: string[] = ['bios', 'uefi'],
): Promise<ImageRef> {
  return cloud.createImage({
    release,
    disk,
    imageName,
    description: 'unit',
    architecture: 'x86_64',
    bootFirmware,
    source: { url: 'file:///x', fileName: 'x.raw', compression: 'none', checksum: disk.checksum },
    options,
  });
}
