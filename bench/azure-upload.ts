// bench: the Azure upload step on a raw image that is 75 % zero blocks: HTTP download →
// sha256 → fixed VHD in a page blob (zero pages never sent) into Azurite, each run in its own
// process (for its peak RSS). Baselines in the same run: the same non-zero 512 KiB runs sent
// with the SDK's uploadPages and nothing else (Azurite's own ceiling for these requests), and
// the same bytes PUT in one stream to a loopback sink (Node's), and the raw source's sha256
// (hash-wasm, resumable: what the transfer must do to every byte, zeros included). Then the
// writes-in-flight sweep: every request held 20 ms by infra/devstack/latency-proxy.ts (a far
// region's round trip), ours and the uploadPages baseline at each concurrency, on two
// layouts with the same data: a dense one (every 4 MiB block one full Put Page) and the
// quarter-data one (two 512 KiB Put Pages per block).
// Usage: node dist/bench/azure-upload.js [sizeMiB=4096] [runs=3] [sweepMiB=1024] [delayMs=20] [sweep=1,2,4,8,16]
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { createServer, request } from 'node:http';
import { createReadStream, mkdtempSync, rmSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createSHA256 } from 'hash-wasm';
import { BlobServiceClient, StorageSharedKeyCredential, type ContainerClient } from '@azure/storage-blob';
import { publishBuild, startBuildServer, type BuildServer } from '../infra/devstack/build-service.js';
import { startAzurite } from '../infra/devstack/azurite.js';
import { startLatencyProxy } from '../infra/devstack/latency-proxy.js';
import { DEFAULT_MAX_WRITES } from '../activities/azure/page-blob-writer.js';
import { paddedVhdDiskSize, VHD_FOOTER_SIZE } from '../activities/common/transfer/vhd-footer.js';
import { fmt, median, mibPerSecond, MiB } from './stats.js';

const sizeMiB = Number(process.argv[2] ?? 4096);
const runs = Number(process.argv[3] ?? 3);
const sweepMiB = Number(process.argv[4] ?? 1024);
const delayMs = Number(process.argv[5] ?? 20);
const sweep = (process.argv[6] ?? '1,2,4,8,16').split(',').map(Number);
/** Azure's documented target for one page blob: what the sweep asks the writer to reach. */
const PAGE_BLOB_CEILING_MIB_S = 60;
const BLOCK = 512 * 1024;
/** The page-blob writer's block: one Put Page at most. */
const WRITER_BLOCK = 4 * MiB;
const CONTAINER = 'imagecast-bench';
const work = mkdtempSync(join(tmpdir(), 'imagecast-bench-azure-'));
const once = fileURLToPath(new URL('./azure-upload-once.js', import.meta.url));
const run = promisify(execFile);

interface Upload {
  ms: number;
  sizeBytes: number;
  bytesWritten: number;
  maxRssMiB: number;
  rssBeforeMiB: number;
}

/**
 * Every `every`-th 512 KiB block random, the rest holes. Returns the Put Pages the writer
 * makes of it, [offset, length]: touching data joined within each 4 MiB block.
 */
async function writeSparseDisk(path: string, mib: number, every: number): Promise<Array<[number, number]>> {
  const file = await open(path, 'w');
  const runs: Array<[number, number]> = [];
  for (let b = 0; b < (mib * MiB) / BLOCK; b += every) {
    const at = b * BLOCK;
    await file.write(randomBytes(BLOCK), 0, BLOCK, at);
    const last = runs[runs.length - 1];
    if (last && last[0] + last[1] === at && at % WRITER_BLOCK !== 0) last[1] += BLOCK;
    else runs.push([at, BLOCK]);
  }
  await file.truncate(mib * MiB);
  await file.close();
  return runs;
}

/** A build service serving one bench image of `mib` MiB, data in every `every`-th 512 KiB block. */
async function benchImage(name: string, mib: number, every: number) {
  const disk = join(work, `${name}.raw`);
  const dataRuns = await writeSparseDisk(disk, mib, every);
  const root = join(work, name);
  const { fileName } = await publishBuild(root, {
    image: 'bench-image',
    arch: 'x86_64',
    version: '1.0.0',
    release: '1',
    disk,
    compression: 'none',
  });
  rmSync(disk);
  const server = await startBuildServer({ root });
  const dataBytes = dataRuns.reduce((sum, [, length]) => sum + length, 0);
  return { server, file: join(root, fileName), dataRuns, dataBytes, size: mib * MiB };
}

/** The raw source's hash alone: the file read and hashed by hash-wasm, as the transfer does. */
async function hashOnly(path: string): Promise<number> {
  const hasher = await createSHA256();
  const t = performance.now();
  for await (const chunk of createReadStream(path, { highWaterMark: 4 * MiB }))
    hasher.update(chunk as Buffer);
  hasher.digest('hex');
  return performance.now() - t;
}

/** Azurite's ceiling: a page blob of the VHD's size, the same runs sent `inFlight` at a time, no transfer or VHD logic. */
async function uploadPagesBaseline(
  container: ContainerClient,
  name: string,
  size: number,
  dataRuns: Array<[number, number]>,
  inFlight: number,
) {
  const chunk = randomBytes(WRITER_BLOCK);
  const blob = container.getPageBlobClient(name);
  const t = performance.now();
  await blob.create(paddedVhdDiskSize(size) + VHD_FOOTER_SIZE);
  let next = 0;
  const worker = async () => {
    while (next < dataRuns.length) {
      const [offset, length] = dataRuns[next++]!;
      await blob.uploadPages(chunk.subarray(0, length), offset, length);
    }
  };
  await Promise.all(Array.from({ length: inFlight }, worker));
  const ms = performance.now() - t;
  await blob.delete();
  return ms;
}

/** Node's ceiling: `bytes` PUT over loopback in one stream to a server that drops them. */
async function loopbackPut(port: number, bytes: number): Promise<number> {
  const chunk = randomBytes(MiB);
  const t = performance.now();
  await new Promise<void>((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, method: 'PUT', path: '/' }, (res) =>
      res.resume().on('end', resolve),
    );
    req.on('error', reject);
    let sent = 0;
    const pump = () => {
      while (sent < bytes) {
        sent += chunk.length;
        if (!req.write(chunk)) return void req.once('drain', pump);
      }
      req.end();
    };
    pump();
  });
  return performance.now() - t;
}

async function ours(
  server: BuildServer,
  blobEndpoint: string,
  token: string,
  maxWrites: number,
): Promise<Upload> {
  // Asynchronously: the build server (and the proxy) answering the upload live in this process.
  const { stdout } = await run(
    process.execPath,
    [once, server.url, blobEndpoint, CONTAINER, token, String(maxWrites)],
    {
      maxBuffer: 1 << 20,
    },
  );
  return JSON.parse(stdout.trim().split('\n').pop()!) as Upload;
}

const azurite = await startAzurite({ logFile: join(work, 'azurite.log') });
const proxy = await startLatencyProxy({ upstream: azurite.blobEndpoint, delayMs });
const sink = createServer((req, res) => req.on('data', () => undefined).on('end', () => res.end()));
try {
  const credential = new StorageSharedKeyCredential(azurite.accountName, azurite.accountKey);
  const container = new BlobServiceClient(azurite.blobEndpoint, credential).getContainerClient(CONTAINER);
  await container.create();
  const proxiedEndpoint = `${proxy.origin}/${azurite.accountName}`;
  const proxied = new BlobServiceClient(proxiedEndpoint, credential).getContainerClient(CONTAINER);
  const dropBlobs = async () => {
    for await (const b of container.listBlobsFlat()) await container.deleteBlob(b.name);
  };
  await new Promise<void>((r) => sink.listen(0, '127.0.0.1', r));
  const sinkPort = (sink.address() as { port: number }).port;

  const main = await benchImage('main', sizeMiB, 4);
  const put: number[] = [];
  const hash: number[] = [];
  const pages: number[] = [];
  const uploads: Upload[] = [];
  for (let i = 0; i < runs; i++) {
    put.push(await loopbackPut(sinkPort, main.dataBytes));
    hash.push(await hashOnly(main.file));
    pages.push(
      await uploadPagesBaseline(container, `baseline-${i}`, main.size, main.dataRuns, DEFAULT_MAX_WRITES),
    );
    uploads.push(
      await ours(main.server, azurite.blobEndpoint, `main-${i}-${Date.now()}`, DEFAULT_MAX_WRITES),
    );
    await dropBlobs();
  }
  await main.server.stop();

  // The same data bytes in both layouts: dense (a quarter of the size, all data) and quarter-data.
  const layouts = [
    { label: 'dense: every block one 4 MiB Put Page', mib: sweepMiB / 4, every: 1 },
    { label: 'quarter data: two 512 KiB Put Pages a block', mib: sweepMiB, every: 4 },
  ];
  const sweeps: Array<{
    label: string;
    mib: number;
    dataBytes: number;
    rows: Array<{ n: number; baselineMs: number; oursMs: number }>;
  }> = [];
  for (const layout of layouts) {
    const image = await benchImage(`sweep-${layout.every}`, layout.mib, layout.every);
    const rows: Array<{ n: number; baselineMs: number; oursMs: number }> = [];
    for (const n of sweep) {
      const b: number[] = [];
      const o: number[] = [];
      for (let i = 0; i < runs; i++) {
        b.push(await uploadPagesBaseline(proxied, `sweep-baseline-${n}-${i}`, image.size, image.dataRuns, n));
        o.push(
          (await ours(image.server, proxiedEndpoint, `sweep-${layout.every}-${n}-${i}-${Date.now()}`, n)).ms,
        );
        await dropBlobs();
      }
      rows.push({ n, baselineMs: median(b), oursMs: median(o) });
      console.error(
        `${layout.label}, ${n} in flight: ${fmt(mibPerSecond(image.dataBytes, median(o)))} MiB/s of data`,
      );
    }
    await image.server.stop();
    sweeps.push({ label: layout.label, mib: layout.mib, dataBytes: image.dataBytes, rows });
  }

  const size = main.size;
  const oursMs = median(uploads.map((u) => u.ms));
  const pagesMs = median(pages);
  const dataRate = (ms: number, bytes = main.dataBytes) =>
    `${fmt(mibPerSecond(bytes, ms)).padStart(7)} MiB/s of data`;
  console.log(
    `image: ${sizeMiB} MiB raw, ${fmt((100 * main.dataBytes) / size)} % non-zero (512 KiB runs), ${runs} runs, medians`,
  );
  console.log(
    `bytes sent / image size                  ${fmt(uploads[0]!.bytesWritten / size, 4)}  (goal <= ${fmt(main.dataBytes / size + 0.01, 2)}; ${uploads[0]!.bytesWritten} bytes)`,
  );
  console.log(`loopback PUT of the data (one stream)    ${dataRate(median(put))}`);
  console.log(
    `sha256 (hash-wasm) of the image alone    ${fmt(mibPerSecond(size, median(hash))).padStart(7)} MiB/s of image (${dataRate(median(hash)).trim()})`,
  );
  console.log(`Azurite uploadPages, same runs, ${DEFAULT_MAX_WRITES} at once ${dataRate(pagesMs)}`);
  console.log(
    `imagecast: HTTP → sha256 → VHD page blob ${dataRate(oursMs)}, ${fmt(mibPerSecond(size, oursMs))} MiB/s of image (${fmt(oursMs / 1000, 1)} s)`,
  );
  console.log(`ratio vs Azurite uploadPages             ${fmt(pagesMs / oursMs, 2)}`);
  console.log(`ratio vs loopback PUT                    ${fmt(median(put) / oursMs, 2)}`);
  console.log(`ratio vs sha256 of the image alone       ${fmt(median(hash) / oursMs, 2)}`);
  console.log(
    `peak RSS of the upload process           ${fmt(median(uploads.map((u) => u.maxRssMiB)))} MiB (max ${fmt(Math.max(...uploads.map((u) => u.maxRssMiB)))}; goal < 300)`,
  );
  console.log(
    `  of which before the transfer           ${fmt(median(uploads.map((u) => u.rssBeforeMiB)))} MiB`,
  );
  for (const s of sweeps) {
    console.log(
      `\nsweep, ${s.label}: ${s.mib} MiB image (${s.dataBytes / MiB} MiB of data), every request +${delayMs} ms, ${runs} runs, medians`,
    );
    console.log('writes in flight | uploadPages baseline | imagecast            | ratio');
    for (const r of s.rows) {
      console.log(
        `${String(r.n).padStart(16)} | ${dataRate(r.baselineMs, s.dataBytes)} | ${dataRate(r.oursMs, s.dataBytes)} | ${fmt(r.baselineMs / r.oursMs, 2)}`,
      );
    }
    const enough = s.rows.find((r) => mibPerSecond(s.dataBytes, r.oursMs) >= PAGE_BLOB_CEILING_MIB_S);
    console.log(
      `writes in flight for >= ${PAGE_BLOB_CEILING_MIB_S} MiB/s of data at +${delayMs} ms: ${enough ? enough.n : `none of ${sweep.join(', ')}`}`,
    );
  }
} finally {
  sink.close();
  await proxy.stop();
  await azurite.stop();
  rmSync(work, { recursive: true, force: true });
}
