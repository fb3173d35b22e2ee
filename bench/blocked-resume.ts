// bench: what resuming a blocked release costs against releasing the same job again. On the
// local cloud, 4 regions; region-4 refuses copies (its CLOSED file) so the release blocks with
// 3 copies made; the bench opens the region and resumes. Measured from `resume` to done: wall
// time and bytes fetched from the build service, against a full release of the same image in
// the same run (the only alternative mash, Packer and plume offer after a failed region).
// Usage: node dist/bench/blocked-resume.js [runs] [sizeMiB]
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import { publishBuild } from '../infra/devstack/build-service.js';
import { writeDemoDisk } from '../infra/devstack/demo-disk.js';
import { createLocalCloud } from '../activities/local/index.js';
import { startBenchReleaseStack } from './release-stack.js';
import { fmt, median } from './stats.js';

// ERROR: the blocked region's refused copy is logged at WARN, by design, on every run.
Runtime.install({ logger: new DefaultLogger('ERROR') });
const runs = Number(process.argv[2] ?? 3);
const sizeMiB = Number(process.argv[3] ?? 512);
const work = mkdtempSync(join(tmpdir(), 'imagecast-bench-'));
const cloudDir = join(work, 'cloud');
const disk = join(work, 'disk.raw');
await writeDemoDisk(disk, sizeMiB);
const stack = await startBenchReleaseStack({ work, providers: { local: createLocalCloud({ dataDir: cloudDir }) } });
const { client } = stack;
const closed = join(cloudDir, 'bench', 'region-4', 'CLOSED');

const job = (name: string) => ({
  cloud: 'local',
  cloud_account: 'bench',
  region: 'region-1',
  additional_regions: ['region-2', 'region-3', 'region-4'],
  cloud_image_name: `${name}-{release}`,
  image_description: 'blocked-resume bench',
  download_url: stack.buildServerUrl,
  image: 'bench-image',
  last_service: 'publish',
  share_with: 'all',
  tests: [],
});

let build = 0;
async function publish(): Promise<void> {
  build++;
  await publishBuild(stack.builds, { image: 'bench-image', arch: 'x86_64', version: '1.0.0', release: String(build), disk, compression: 'none' });
}

/** A whole release: wall time and bytes fetched. */
async function fullRelease(): Promise<{ ms: number; bytes: number }> {
  await publish();
  const bytes0 = stack.bytesServed();
  const t0 = performance.now();
  const { releaseId } = await client.startRelease(job('full'), { cloud: 'local' });
  const done = await client.waitForRelease(releaseId, { pollIntervalMs: 100 });
  if (done.state !== 'succeeded') throw new Error(`full release ${releaseId} ${done.state}: ${done.error}`);
  return { ms: performance.now() - t0, bytes: stack.bytesServed() - bytes0 };
}

/** A release blocked on region-4, then resumed once the region opens: from resume to done. */
async function resumedRelease(): Promise<{ ms: number; bytes: number; uploads: number }> {
  await publish();
  mkdirSync(join(closed, '..'), { recursive: true });
  writeFileSync(closed, 'image quota reached');
  const { releaseId } = await client.startRelease(job('blocked'), { cloud: 'local' });
  const blocked = await client.waitForRelease(releaseId, { pollIntervalMs: 100 });
  if (blocked.state !== 'blocked') throw new Error(`release ${releaseId} ${blocked.state}, expected blocked: ${blocked.error}`);
  rmSync(closed);
  const bytes0 = stack.bytesServed();
  const t0 = performance.now();
  await client.resumeRelease(releaseId, { by: 'bench' });
  const done = await client.waitForRelease(releaseId, { pollIntervalMs: 100 });
  if (done.state !== 'succeeded') throw new Error(`resumed release ${releaseId} ${done.state}: ${done.error}`);
  const ms = performance.now() - t0;
  const history = await client.temporal.workflow.getHandle(releaseId).fetchHistory();
  const uploads = (history.events ?? []).filter((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'uploadImage').length;
  return { ms, bytes: stack.bytesServed() - bytes0, uploads };
}

try {
  const full: Array<{ ms: number; bytes: number }> = [];
  const resumed: Array<{ ms: number; bytes: number; uploads: number }> = [];
  // Interleaved, so the machine's noise falls on both alike.
  for (let i = 0; i < runs; i++) {
    full.push(await fullRelease());
    resumed.push(await resumedRelease());
  }
  const fullMs = median(full.map((r) => r.ms));
  const resumeMs = median(resumed.map((r) => r.ms));
  const mib = (b: number) => fmt(b / 1048576, 1);
  console.log(`${sizeMiB} MiB raw image, local cloud, 4 regions, ${runs} runs each (interleaved), medians`);
  console.log(`full release (start → done)      ${fmt(fullMs / 1000, 2)} s   ${mib(median(full.map((r) => r.bytes)))} MiB fetched   runs: ${full.map((r) => fmt(r.ms / 1000, 2)).join(', ')}`);
  console.log(`blocked region resumed (→ done)  ${fmt(resumeMs / 1000, 2)} s   ${mib(median(resumed.map((r) => r.bytes)))} MiB fetched   runs: ${resumed.map((r) => fmt(r.ms / 1000, 2)).join(', ')}`);
  console.log(`uploads per blocked release      ${resumed.map((r) => r.uploads).join(', ')} (1 = nothing uploaded again)`);
  console.log(`resume ÷ full release            ${fmt(resumeMs / fullMs, 3)} (goal < 0.2, no bytes fetched again)`);
} finally {
  await stack.stop();
}
