// One EBS direct upload (HTTP → sha256 → EBS snapshot through moto), in its own process so
// its peak RSS is its own. Usage: node dist/bench/ec2-upload-once.js BUILD_URL AWS_ENDPOINT ACCOUNTS_JSON TOKEN
// Prints one JSON line: { ms, sizeBytes, bytesWritten, maxRssMiB }.
import { resolveBenchSource } from './bench-source.js';
import { transferImage } from '../activities/common/transfer/transfer-image.js';
import { accountDirectory } from '../activities/accounts/account-directory.js';
import { createEc2Cloud } from '../activities/ec2/index.js';

const [buildUrl, endpoint, accountsJson, token] = process.argv.slice(2) as [string, string, string, string];
const source = await resolveBenchSource(buildUrl);
const cloud = createEc2Cloud({ accounts: accountDirectory(JSON.parse(accountsJson)), endpoint, pollMs: 50 });
const started = performance.now();
const writer = await cloud.openDiskWriter({
  release: { releaseId: `bench-${token}`, releaseToken: token, cloud: 'ec2', account: 'bench' },
  region: 'us-east-1',
  checksum: source.checksum,
  resumeFromOffset: 0,
  diskSizeBytes: source.sizeBytes,
  options: {
    cloud: 'ec2',
    uploadMethod: 'ebs_direct',
    rootVolumeSizeGiB: 8,
    enaSupport: true,
    sriovSupport: true,
    billingCodes: [],
    copyPermission: 'none',
  },
});
const disk = await transferImage({ source, writer });
const ms = performance.now() - started;
cloud.close();
console.log(
  JSON.stringify({ ms, sizeBytes: disk.sizeBytes, bytesWritten: disk.bytesWritten, maxRssMiB: process.resourceUsage().maxRSS / 1024 }),
);
