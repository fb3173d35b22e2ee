// One Azure upload (HTTP → sha256 → fixed VHD in a page blob, zero pages never sent) into
// Azurite, or into the latency proxy in front of it, in its own process so its peak RSS is its
// own. Usage: node dist/bench/azure-upload-once.js BUILD_URL BLOB_ENDPOINT CONTAINER TOKEN MAX_WRITES
// Prints one JSON line: { ms, sizeBytes, bytesWritten, maxRssMiB, rssBeforeMiB }.
import { BlobServiceClient, StorageSharedKeyCredential } from '@azure/storage-blob';
import { resolveBenchSource } from './bench-source.js';
import { transferImage } from '../activities/common/transfer/transfer-image.js';
import { openPageBlobWriter } from '../activities/azure/page-blob-writer.js';
import { AZURITE_ACCOUNT, AZURITE_ACCOUNT_KEY } from '../infra/devstack/azurite.js';

const MiB = 1024 * 1024;
const [buildUrl, blobEndpoint, containerName, token, maxWrites] = process.argv.slice(2) as [
  string,
  string,
  string,
  string,
  string,
];
const source = await resolveBenchSource(buildUrl);
const container = new BlobServiceClient(
  blobEndpoint,
  new StorageSharedKeyCredential(AZURITE_ACCOUNT, AZURITE_ACCOUNT_KEY),
).getContainerClient(containerName);
const started = performance.now();
const writer = await openPageBlobWriter(
  container,
  {
    release: { releaseId: `bench-${token}`, releaseToken: token, cloud: 'azure', account: 'bench' },
    region: 'westeurope',
    checksum: source.checksum,
    resumeFromOffset: 0,
    ...(source.sizeBytes !== undefined && { diskSizeBytes: source.sizeBytes }),
  },
  { blobName: `bench-${token}.vhd`, forceReplace: false },
  { maxConcurrentWrites: Number(maxWrites) },
);
const rssBeforeMiB = process.memoryUsage.rss() / MiB;
const disk = await transferImage({ source, writer });
const ms = performance.now() - started;
console.log(
  JSON.stringify({
    ms,
    sizeBytes: disk.sizeBytes,
    bytesWritten: disk.bytesWritten,
    maxRssMiB: process.resourceUsage().maxRSS / 1024,
    rssBeforeMiB,
  }),
);
