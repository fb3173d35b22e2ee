// One GCE upload (HTTP → sha256 → tar.gz built in the stream → resumable upload and compose
// in fake-gcs-server), in its own process so its peak RSS is its own.
// Usage: node dist/bench/gce-upload-once.js BUILD_URL GCS_ENDPOINT BUCKET TOKEN
// Prints one JSON line: { ms, sizeBytes, bytesWritten, maxRssMiB, rssBeforeMiB }.
import { resolveBenchSource } from './bench-source.js';
import { transferImage } from '../activities/common/transfer/transfer-image.js';
import { accountDirectory } from '../activities/accounts/account-directory.js';
import { createGceCloud } from '../activities/gce/index.js';
import { stackKey } from '../infra/devstack/gce-stack.js';

const MiB = 1024 * 1024;
const [buildUrl, storageEndpoint, bucket, token] = process.argv.slice(2) as [string, string, string, string];
const source = await resolveBenchSource(buildUrl);
const accounts = accountDirectory({ gce: [{ name: 'bench', zone: 'us-east1-b', bucket, credentials: stackKey() }] });
const cloud = createGceCloud({ accounts, storageEndpoint });
const started = performance.now();
const writer = await cloud.openDiskWriter({
  release: { releaseId: `bench-${token}`, releaseToken: token, cloud: 'gce', account: 'bench' },
  region: 'global',
  imageName: `bench-${token}`,
  checksum: source.checksum,
  resumeFromOffset: 0,
  ...(source.sizeBytes !== undefined && { diskSizeBytes: source.sizeBytes }),
  options: { cloud: 'gce', bucket, guestOsFeatures: [], licenses: [], monthsToDeletion: 6, testZone: 'us-east1-b', testFallbackZones: [], forceReplace: false, skipRollout: false },
});
// What the SDKs cost before a byte moves (the compute protos alone are ~200 MiB).
const rssBeforeMiB = process.memoryUsage.rss() / MiB;
const disk = await transferImage({ source, writer });
const ms = performance.now() - started;
await cloud.close();
console.log(
  JSON.stringify({ ms, sizeBytes: disk.sizeBytes, bytesWritten: disk.bytesWritten, maxRssMiB: process.resourceUsage().maxRSS / 1024, rssBeforeMiB }),
);
