// bench: EBS direct upload of a raw image that is 75 % zero blocks into moto's EBS API, and
// replication of an AMI to 8 regions against 1. Baseline in the same run: the non-zero
// bytes PUT over loopback HTTP to a sink (what any uploader must at least send).
// Usage: node dist/bench/ec2-upload.js [sizeMiB=4096] [runs=3] [copyDelayMs=3000]
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { createServer, request } from 'node:http';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { publishBuild, startBuildServer } from '../infra/devstack/build-service.js';
import { startMotoServer } from '../infra/devstack/moto-server.js';
import { startEc2Shim } from '../infra/devstack/ec2-shim.js';
import { accountDirectory } from '../activities/accounts/account-directory.js';
import { createEc2Cloud } from '../activities/ec2/index.js';
import type { Ec2ImageOptions } from '../schemas/release-plan.js';
import { fmt, median, mibPerSecond, MiB } from './stats.js';

const sizeMiB = Number(process.argv[2] ?? 4096);
const runs = Number(process.argv[3] ?? 3);
const copyDelayMs = Number(process.argv[4] ?? 3000);
const BLOCK = 512 * 1024;
const work = mkdtempSync(join(tmpdir(), 'imagecast-bench-ec2-'));
const once = fileURLToPath(new URL('./ec2-upload-once.js', import.meta.url));
const REGIONS = [
  'eu-west-1',
  'eu-west-2',
  'eu-central-1',
  'us-west-1',
  'us-west-2',
  'ap-northeast-1',
  'ap-southeast-1',
  'sa-east-1',
];

/** A sparse raw disk: every 4th 512 KiB block random (25 % data), the rest holes. */
async function writeQuarterDataDisk(path: string): Promise<number> {
  const file = await open(path, 'w');
  const blocks = (sizeMiB * MiB) / BLOCK;
  let data = 0;
  for (let b = 0; b < blocks; b += 4) {
    await file.write(randomBytes(BLOCK), 0, BLOCK, b * BLOCK);
    data += BLOCK;
  }
  await file.truncate(sizeMiB * MiB);
  await file.close();
  return data;
}

const moto = await startMotoServer({ logFile: join(work, 'moto.log') });
const shim = await startEc2Shim({ upstream: moto.endpoint, copyDelayMs });
const accountsJson = {
  ec2: [
    {
      name: 'bench',
      region: 'us-east-1',
      credentials: {
        access_key_id: 'AKIAIMAGECASTBENCH01',
        secret_access_key: 'imagecast-bench-secret-000000000000000',
      },
    },
  ],
};
try {
  const disk = join(work, 'disk.raw');
  const dataBytes = await writeQuarterDataDisk(disk);
  const builds = join(work, 'builds');
  mkdirSync(builds);
  await publishBuild(builds, {
    image: 'bench-image',
    arch: 'x86_64',
    version: '1.0.0',
    release: '1',
    disk,
    compression: 'none',
  });
  const server = await startBuildServer({ root: builds });
  const sink = createServer((req, res) => req.on('data', () => undefined).on('end', () => res.end()));
  await new Promise<void>((r) => sink.listen(0, '127.0.0.1', r));
  const sinkPort = (sink.address() as { port: number }).port;

  const baseline: number[] = [];
  const ours: Array<{ ms: number; sizeBytes: number; bytesWritten: number; maxRssMiB: number }> = [];
  for (let i = 0; i < runs; i++) {
    // Baseline: the same non-zero bytes PUT over loopback in one stream.
    const t = performance.now();
    const chunk = randomBytes(MiB);
    await new Promise<void>((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port: sinkPort, method: 'PUT', path: '/' }, (res) => {
        res.resume();
        res.on('end', resolve);
      });
      req.on('error', reject);
      let sent = 0;
      const pump = () => {
        while (sent < dataBytes) {
          sent += chunk.length;
          if (!req.write(chunk)) return void req.once('drain', pump);
        }
        req.end();
      };
      pump();
    });
    baseline.push(performance.now() - t);
    // Asynchronously: the build server answering the upload lives in this process.
    const { stdout } = await promisify(execFile)(
      process.execPath,
      [once, server.url, shim.endpoint, JSON.stringify(accountsJson), `bench-${i}`],
      {
        maxBuffer: 1 << 20,
      },
    );
    ours.push(JSON.parse(stdout.trim().split('\n').pop()!));
  }
  await server.stop();
  sink.close();

  // Replication: one AMI copied to 1 region, then to 8 in parallel (each copy "pending" for copyDelayMs, as AWS copies take time).
  const cloud = createEc2Cloud({
    accounts: accountDirectory(accountsJson),
    endpoint: shim.endpoint,
    pollMs: 200,
  });
  const release = {
    releaseId: 'bench-replicate',
    releaseToken: 'bench-replicate',
    cloud: 'ec2' as const,
    account: 'bench',
  };
  const imageOptions: Ec2ImageOptions = {
    cloud: 'ec2',
    uploadMethod: 'ebs_direct',
    rootVolumeSizeGiB: 1,
    enaSupport: true,
    sriovSupport: true,
    billingCodes: [],
    copyPermission: 'none',
  };
  const replicate = async (name: string, regions: string[]) => {
    const writer = await cloud.openDiskWriter({
      release: { ...release, releaseToken: name },
      region: 'us-east-1',
      checksum: { algorithm: 'sha256', hex: '0' },
      resumeFromOffset: 0,
      options: imageOptions,
    });
    await writer.writeBlock(0, randomBytes(BLOCK));
    const uploaded = await writer.commit(BLOCK, BLOCK);
    const home = await cloud.createImage({
      release: { ...release, releaseToken: name },
      disk: uploaded,
      imageName: name,
      description: 'bench',
      architecture: 'x86_64',
      bootFirmware: ['uefi'],
      source: { url: 'http://x/', fileName: 'x', compression: 'none', checksum: uploaded.checksum },
      options: imageOptions,
    });
    const t = performance.now();
    await Promise.all(
      regions.map((targetRegion) =>
        cloud.replicateImage({
          release: { ...release, releaseToken: name },
          source: home,
          targetRegion,
          description: 'bench',
        }),
      ),
    );
    return performance.now() - t;
  };
  const one: number[] = [];
  const eight: number[] = [];
  for (let i = 0; i < runs; i++) {
    one.push(await replicate(`bench-one-${i}`, REGIONS.slice(0, 1)));
    eight.push(await replicate(`bench-eight-${i}`, REGIONS));
  }
  cloud.close();

  const size = ours[0]!.sizeBytes;
  const oursMs = median(ours.map((o) => o.ms));
  console.log(
    `image: ${sizeMiB} MiB raw, ${fmt((100 * dataBytes) / size)} % non-zero, ${runs} runs, medians`,
  );
  console.log(`bytes sent / image size      ${fmt(ours[0]!.bytesWritten / size, 3)}  (goal <= 0.3)`);
  console.log(`loopback PUT of the data     ${fmt(mibPerSecond(dataBytes, median(baseline)))} MiB/s of data`);
  console.log(
    `imagecast EBS direct upload  ${fmt(mibPerSecond(dataBytes, oursMs))} MiB/s of data, ${fmt(mibPerSecond(size, oursMs))} MiB/s of image`,
  );
  console.log(`ratio vs loopback PUT        ${fmt(median(baseline) / oursMs, 2)}`);
  console.log(
    `peak RSS                     ${fmt(median(ours.map((o) => o.maxRssMiB)))} MiB (max ${fmt(Math.max(...ours.map((o) => o.maxRssMiB)))}; goal < 300)`,
  );
  console.log(`replicate to 1 region        ${fmt(median(one))} ms (each copy pending ${copyDelayMs} ms)`);
  console.log(`replicate to 8 regions       ${fmt(median(eight))} ms`);
  console.log(`8 regions / 1 region         ${fmt(median(eight) / median(one), 2)}  (goal <= 1.3)`);
} finally {
  await shim.stop();
  await moto.stop();
  rmSync(work, { recursive: true, force: true });
}
