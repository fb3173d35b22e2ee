// One download → verify → upload pass into the local cloud, in its own process so its peak
// RSS is its own. Prints one JSON line: { ms, sizeBytes, bytesWritten, maxRssMiB }.
import { createLocalCloud } from '../activities/local/index.js';
import { resolveBenchSource } from './bench-source.js';
import { transferImage } from '../activities/common/transfer/transfer-image.js';

const [downloadUrl, dataDir, token] = process.argv.slice(2);
if (!downloadUrl || !dataDir || !token) throw new Error('usage: transfer-once <download_url> <data_dir> <token>');

const source = await resolveBenchSource(downloadUrl);
const provider = createLocalCloud({ dataDir });
const release = { releaseId: 'bench', releaseToken: token, cloud: 'local' as const, account: 'bench' };
const started = performance.now();
const writer = await provider.openDiskWriter({ release, region: 'bench-1', checksum: source.checksum, resumeFromOffset: 0 });
const disk = await transferImage({ source, writer });
const ms = performance.now() - started;
console.log(
  JSON.stringify({ ms, sizeBytes: disk.sizeBytes, bytesWritten: disk.bytesWritten, maxRssMiB: process.resourceUsage().maxRSS / 1024 }),
);
