// bench: download → verify (sha256) → upload into the local cloud, for a 2 GiB raw image
// served over loopback HTTP, against `cat image > /dev/null` and `sha256sum image` measured
// in the same run. Usage: node dist/bench/transfer-throughput.js [sizeMiB] [runs]
import { execFile, execFileSync } from 'node:child_process';
import { promisify } from 'node:util';
import { createReadStream, mkdtempSync, rmSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { pipeline } from 'node:stream/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { publishBuild, startBuildServer } from '../infra/devstack/build-service.js';
import { writeDemoDisk } from '../infra/devstack/demo-disk.js';
import { fmt, median, mibPerSecond, MiB } from './stats.js';

const sizeMiB = Number(process.argv[2] ?? 2048);
const runs = Number(process.argv[3] ?? 3);
const work = mkdtempSync(join(tmpdir(), 'imagecast-bench-'));
const once = fileURLToPath(new URL('./transfer-once.js', import.meta.url));

try {
  const disk = join(work, 'disk.raw');
  await writeDemoDisk(disk, sizeMiB);
  const builds = join(work, 'builds');
  execFileSync('mkdir', ['-p', builds]);
  const { fileName } = await publishBuild(builds, { image: 'bench-image', arch: 'x86_64', version: '1.0.0', release: '1', disk, compression: 'none' });
  const image = join(builds, fileName);
  const server = await startBuildServer({ root: builds });
  const bytes = sizeMiB * MiB;
  execFileSync('cat', [image], { stdio: ['ignore', 'ignore', 'ignore'] }); // warm the page cache

  const time = (fn: () => void) => {
    const t = performance.now();
    fn();
    return performance.now() - t;
  };
  const timeAsync = async (fn: () => Promise<void>) => {
    const t = performance.now();
    await fn();
    return performance.now() - t;
  };
  const cat: number[] = [];
  const nodeHash: number[] = [];
  const httpCopy: number[] = [];
  const sha: number[] = [];
  const ours: Array<{ ms: number; bytesWritten: number; maxRssMiB: number }> = [];
  for (let i = 0; i < runs; i++) {
    cat.push(time(() => execFileSync('sh', ['-c', `cat '${image}' > /dev/null`])));
    sha.push(time(() => execFileSync('sha256sum', [image], { stdio: ['ignore', 'ignore', 'ignore'] })));
    // The floor of any verified read in Node: read the file and sha256 it with node:crypto.
    nodeHash.push(await timeAsync(() => pipeline(createReadStream(image, { highWaterMark: MiB }), createHash('sha256'))));
    // The raw loopback copy: the same HTTP server, the body read and dropped.
    httpCopy.push(
      await timeAsync(async () => {
        const response = await fetch(new URL(fileName, server.url));
        for await (const _chunk of response.body!) void _chunk;
      }),
    );
    const dataDir = join(work, `cloud-${i}`);
    // Asynchronously: the build server answering the transfer lives in this process.
    const { stdout } = await promisify(execFile)(process.execPath, [once, server.url, dataDir, `bench-${i}`]);
    ours.push(JSON.parse(stdout.trim().split('\n').pop()!));
    rmSync(dataDir, { recursive: true, force: true });
  }
  await server.stop();

  const catMs = median(cat);
  const shaMs = median(sha);
  const oursMs = median(ours.map((o) => o.ms));
  console.log(`image: ${sizeMiB} MiB raw (${fmt((100 * ours[0]!.bytesWritten) / bytes)} % non-zero blocks written), ${runs} runs, medians`);
  console.log(`cat > /dev/null        ${fmt(mibPerSecond(bytes, catMs))} MiB/s`);
  console.log(`sha256sum              ${fmt(mibPerSecond(bytes, shaMs))} MiB/s`);
  console.log(`node read + sha256     ${fmt(mibPerSecond(bytes, median(nodeHash)))} MiB/s`);
  console.log(`HTTP loopback copy     ${fmt(mibPerSecond(bytes, median(httpCopy)))} MiB/s`);
  console.log(`imagecast transfer     ${fmt(mibPerSecond(bytes, oursMs))} MiB/s  (HTTP → sha256 → sparse local disk)`);
  console.log(`ratio vs cat           ${fmt(catMs / oursMs, 2)}`);
  console.log(`ratio vs sha256sum     ${fmt(shaMs / oursMs, 2)}`);
  console.log(`ratio vs node sha256   ${fmt(median(nodeHash) / oursMs, 2)}`);
  console.log(`ratio vs HTTP copy     ${fmt(median(httpCopy) / oursMs, 2)}`);
  console.log(`peak RSS               ${fmt(median(ours.map((o) => o.maxRssMiB)))} MiB (max ${fmt(Math.max(...ours.map((o) => o.maxRssMiB)))})`);
} finally {
  rmSync(work, { recursive: true, force: true });
}
