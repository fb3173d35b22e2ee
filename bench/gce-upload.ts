// bench: the GCE upload step on a raw image that is 75 % zero blocks: HTTP download →
// sha256 → the tar.gz GCE imports, deflated (zlib level 1) on the libuv pool and uploaded
// as one resumable session, then composed, into fake-gcs-server. Baselines in the same run,
// on the same file, without any upload: `gzip -1 -c image` (our stream's compressor), and the
// command Google's import guide gives (`tar --format=oldgnu -Sczf`, gzip -6 and sparse).
// Usage: node dist/bench/gce-upload.js [sizeMiB=4096] [runs=3] [OTHER_DIST]
// OTHER_DIST: another build's dist/ (say, of the commit before a change), whose upload runs in
// the same runs, right after ours (before it on odd runs), against the same gzip -1 baseline.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Storage } from '@google-cloud/storage';
import { PassThroughClient } from 'google-auth-library';
import { publishBuild, startBuildServer } from '../infra/devstack/build-service.js';
import { startFakeGcsServer } from '../infra/devstack/fake-gcs-server.js';
import { startGcsResumeShim } from '../infra/devstack/gcs-resume-shim.js';
import { fmt, median, mibPerSecond, MiB } from './stats.js';

const sizeMiB = Number(process.argv[2] ?? 4096);
const runs = Number(process.argv[3] ?? 3);
const BLOCK = 512 * 1024;
const BUCKET = 'imagecast-bench';
const work = mkdtempSync(join(tmpdir(), 'imagecast-bench-gce-'));
const once = fileURLToPath(new URL('./gce-upload-once.js', import.meta.url));
const otherOnce = process.argv[4] ? resolve(process.argv[4], 'bench/gce-upload-once.js') : undefined;
const run = promisify(execFile);

/**
 * Every 4th 512 KiB block holds data, the rest are holes. Data is base64 of random bytes
 * (6 bits of entropy a byte: deflate gets ~0.76 of it back), nearer a real image's
 * binaries than incompressible noise, and the same work for gzip and for us.
 */
async function writeQuarterDataDisk(path: string): Promise<number> {
  const file = await open(path, 'w');
  const blocks = (sizeMiB * MiB) / BLOCK;
  let data = 0;
  for (let b = 0; b < blocks; b += 4) {
    const block = Buffer.from(randomBytes((BLOCK * 3) / 4).toString('base64'));
    await file.write(block, 0, BLOCK, b * BLOCK);
    data += BLOCK;
  }
  await file.truncate(sizeMiB * MiB);
  await file.close();
  return data;
}

/** Wall time of a shell pipeline that prints the byte count of what it made. */
async function timed(script: string): Promise<{ ms: number; bytes: number }> {
  const t = performance.now();
  const { stdout } = await run('sh', ['-c', script], { cwd: work, maxBuffer: 1 << 20 });
  return { ms: performance.now() - t, bytes: Number(stdout.trim()) };
}

/**
 * fake-gcs-server's own cost for the bytes we send: one resumable upload of that many bytes
 * in 16 MiB chunks, then a compose, as our writer does. Its in-memory backend copies the
 * object on every chunk (832 MB took 48 s, 208 MB 5 s here): it, not our stream, sets the
 * pace at 4 GiB, and real Cloud Storage does not behave so.
 */
async function emulatorUpload(storage: Storage, bytes: number, name: string): Promise<number> {
  const chunk = randomBytes(16 * MiB);
  const file = storage.bucket(BUCKET).file(name);
  const t = performance.now();
  await new Promise<void>((resolve, reject) => {
    const w = file.createWriteStream({ resumable: true, chunkSize: 16 * MiB, validation: false });
    w.on('error', reject);
    w.on('finish', resolve);
    let sent = 0;
    const pump = () => {
      while (sent < bytes) {
        const piece = chunk.subarray(0, Math.min(chunk.length, bytes - sent));
        sent += piece.length;
        if (!w.write(piece)) return void w.once('drain', pump);
      }
      w.end();
    };
    pump();
  });
  await storage.bucket(BUCKET).combine([file], `${name}.composed`);
  const ms = performance.now() - t;
  await Promise.all([file.delete(), storage.bucket(BUCKET).file(`${name}.composed`).delete()]);
  return ms;
}

const gcs = await startFakeGcsServer({ logFile: join(work, 'fake-gcs.log') });
const shim = await startGcsResumeShim({ upstream: gcs.endpoint });
try {
  const storage = new Storage({ apiEndpoint: gcs.endpoint, projectId: 'bench', authClient: new PassThroughClient() });
  await storage.createBucket(BUCKET);
  const disk = join(work, 'disk.raw');
  const dataBytes = await writeQuarterDataDisk(disk);
  const size = sizeMiB * MiB;
  const builds = join(work, 'builds');
  mkdirSync(builds);
  await publishBuild(builds, { image: 'bench-image', arch: 'x86_64', version: '1.0.0', release: '1', disk, compression: 'none' });
  const server = await startBuildServer({ root: builds });

  const gzip1: Array<{ ms: number; bytes: number }> = [];
  const google: Array<{ ms: number; bytes: number }> = [];
  const emulator: number[] = [];
  type Upload = { ms: number; sizeBytes: number; bytesWritten: number; maxRssMiB: number; rssBeforeMiB: number };
  const ours: Upload[] = [];
  const other: Upload[] = [];
  const upload = async (script: string, token: string): Promise<Upload> => {
    // Asynchronously: the build server and the shim answering the upload live in this process.
    const { stdout } = await run(process.execPath, [script, server.url, shim.endpoint, BUCKET, `${token}-${Date.now()}`], {
      maxBuffer: 1 << 20,
    });
    // Free the emulator's memory: every run's object stays in it otherwise.
    for (const [f] of [await storage.bucket(BUCKET).getFiles()]) await Promise.all(f.map((o) => o.delete()));
    return JSON.parse(stdout.trim().split('\n').pop()!) as Upload;
  };
  for (let i = 0; i < runs; i++) {
    gzip1.push(await timed('gzip -1 -c disk.raw | wc -c'));
    google.push(await timed('tar --format=oldgnu -Sczf - disk.raw | wc -c'));
    if (otherOnce && i % 2 === 1) other.push(await upload(otherOnce, `o${i}`));
    ours.push(await upload(once, `r${i}`));
    if (otherOnce && i % 2 === 0) other.push(await upload(otherOnce, `o${i}`));
    emulator.push(await emulatorUpload(storage, ours[i]!.bytesWritten, `baseline-${i}`));
  }
  await server.stop();

  const oursMs = median(ours.map((o) => o.ms));
  const gzipMs = median(gzip1.map((g) => g.ms));
  const googleMs = median(google.map((g) => g.ms));
  const line = (label: string, ms: number) => `${label.padEnd(52)} ${fmt(mibPerSecond(size, ms)).padStart(7)} MiB/s of disk  (${fmt(ms / 1000, 1)} s)`;
  console.log(`image: ${sizeMiB} MiB raw, ${fmt((100 * dataBytes) / size)} % non-zero blocks, ${runs} runs, medians`);
  console.log(line('gzip -1 -c image | wc -c (no upload)', gzipMs));
  console.log(line("tar -Sczf, Google's guide (no upload)", googleMs));
  console.log(line('imagecast: HTTP → tar.gz → GCS (compose)', oursMs));
  console.log(`speed vs gzip -1                             ${fmt(gzipMs / oursMs, 2)}  (goal >= 0.8)`);
  if (otherOnce) {
    const otherMs = median(other.map((o) => o.ms));
    console.log(line(`the other build (${process.argv[4]})`, otherMs));
    console.log(`the other build's speed vs gzip -1           ${fmt(gzipMs / otherMs, 2)}`);
    console.log(`per run, gzip -1 ÷ ours | ÷ other build      ${gzip1.map((g, i) => `${fmt(g.ms / ours[i]!.ms, 2)} | ${fmt(g.ms / other[i]!.ms, 2)}`).join(', ')}`);
  }
  const emulatorMs = median(emulator);
  console.log(line('fake-gcs-server alone, same bytes (upload+compose)', emulatorMs));
  console.log(line('gzip -1, then that upload (mash: stage, then send)', gzipMs + emulatorMs));
  console.log(`speed vs gzip -1 then upload                 ${fmt((gzipMs + emulatorMs) / oursMs, 2)}`);
  console.log(`speed vs fake-gcs-server alone               ${fmt(emulatorMs / oursMs, 2)}  (1.0: the emulator sets the pace)`);
  console.log(`speed vs Google's tar -Sczf                  ${fmt(googleMs / oursMs, 2)}`);
  console.log(`bytes sent / gzip -1 bytes                   ${fmt(ours[0]!.bytesWritten / gzip1[0]!.bytes, 3)}  (${ours[0]!.bytesWritten} vs ${gzip1[0]!.bytes})`);
  console.log(`bytes sent / Google's tar -Sczf bytes        ${fmt(ours[0]!.bytesWritten / google[0]!.bytes, 3)}  (${google[0]!.bytes})`);
  console.log(`bytes sent / image size                      ${fmt(ours[0]!.bytesWritten / size, 3)}`);
  console.log(
    `peak RSS of the upload process               ${fmt(median(ours.map((o) => o.maxRssMiB)))} MiB (max ${fmt(Math.max(...ours.map((o) => o.maxRssMiB)))})`,
  );
  console.log(`  of which the SDKs before the transfer      ${fmt(median(ours.map((o) => o.rssBeforeMiB)))} MiB`);
  console.log(
    `  added by the transfer (peak - before)      ${fmt(median(ours.map((o) => o.maxRssMiB - o.rssBeforeMiB)))} MiB (goal < 300)`,
  );
} finally {
  await shim.stop();
  await gcs.stop();
  rmSync(work, { recursive: true, force: true });
}
