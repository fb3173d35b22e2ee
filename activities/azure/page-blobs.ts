import type { AzureImageOptions } from '../../schemas/release-plan.js';
import type { DiskWriter, OpenDiskWriterInput, ReleaseRef } from '../provider.js';
import { azure, azureProblemOf, classifyAzureError, isBlobNotFound } from './azure-errors.js';
import type { AzureClients } from './clients.js';
import { openPageBlobWriter, RELEASE_TOKEN_KEY } from './page-blob-writer.js';

/** The release's VHD as mash names it: `<container>/<image name>.vhd` in the source storage account. */
export function openReleasePageBlob(
  c: AzureClients,
  input: OpenDiskWriterInput,
  o: AzureImageOptions,
): Promise<DiskWriter> {
  const container = c.blobService(o.storageAccount).getContainerClient(o.container);
  return openPageBlobWriter(container, input, {
    blobName: `${input.imageName}.vhd`,
    forceReplace: o.forceReplace,
  });
}

/**
 * A blob URL's storage account, container and blob: `https://<account>.blob.core.windows.net/<c>/<b>`,
 * or an emulator's path-style `http://127.0.0.1:PORT/<account>/<c>/<b>`.
 */
export function parseBlobUrl(url: string): { storageAccount: string; container: string; blobName: string } {
  const u = new URL(url);
  const parts = u.pathname.split('/').filter(Boolean).map(decodeURIComponent);
  const pathStyle = /^[\d.]+$|^localhost$|^\[/.test(u.hostname);
  const storageAccount = pathStyle ? parts.shift() : u.hostname.split('.')[0];
  const [container, ...blob] = parts;
  if (!storageAccount || !container || blob.length === 0) throw new Error(`"${url}" is not a blob URL`);
  return { storageAccount, container, blobName: blob.join('/') };
}

/** The uploaded VHD, once the images no longer need it (Azure copies it into them). */
export async function deletePageBlob(c: AzureClients, release: ReleaseRef, diskId: string): Promise<void> {
  const { storageAccount, container, blobName } = parseBlobUrl(diskId);
  const blob = c.blobService(storageAccount).getContainerClient(container).getBlobClient(blobName);
  const where = { account: storageAccount, container };
  const properties = await azure('read blob properties', where, () => blob.getProperties()).catch((error: unknown) => {
    // Gone already is done; anything else (throttled, denied) must not delete a blob unread.
    if (isBlobNotFound(error)) return undefined;
    throw error;
  });
  // Only this run's: a blob someone replaced since is theirs.
  if (!properties || properties.metadata?.[RELEASE_TOKEN_KEY] !== release.releaseToken) return;
  await azure('delete blob', where, () => blob.deleteIfExists({ deleteSnapshots: 'include' }));
}

/** Every blob in the release's container carrying this run's token (a half-made upload). */
export async function discardPageBlobs(
  c: AzureClients,
  o: AzureImageOptions,
  release: ReleaseRef,
): Promise<void> {
  const container = c.blobService(o.storageAccount).getContainerClient(o.container);
  const where = { account: o.storageAccount, container: o.container };
  const ours: string[] = [];
  try {
    for await (const blob of container.listBlobsFlat({ includeMetadata: true })) {
      if (blob.metadata?.[RELEASE_TOKEN_KEY] === release.releaseToken) ours.push(blob.name);
    }
  } catch (error) {
    // No container: the upload never started, so there is nothing of this run's in it.
    if (azureProblemOf(error)?.code === 'ContainerNotFound') return;
    throw classifyAzureError(error, 'list blobs', where);
  }
  for (const name of ours)
    await azure('delete blob', where, () =>
      container.getBlobClient(name).deleteIfExists({ deleteSnapshots: 'include' }),
    );
}
