// What the Azure provider tests share: a release of the test account, the image options of a
// managed-image release, and the upload + create calls that make an image to work on.
import type { CloudProvider, ImageRef, ReleaseRef, UploadedDisk } from '../../activities/provider.js';
import type { AzureImageOptions } from '../../schemas/release-plan.js';
import { AZURE_CONTAINER, AZURE_RESOURCE_GROUP, AZURE_STORAGE_ACCOUNT } from './azure-emulator.js';

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
