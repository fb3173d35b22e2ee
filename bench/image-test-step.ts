// bench: the test step on the local cloud (the Debian demo image under QEMU, software
// emulation), through the real workflow, workers, Temporal dev server and PostgreSQL.
//   1. launch → first SSH login and the whole test step, median of N clean releases, against
//      a baseline measured in the same run: the same image booted by the same provider until
//      its sshd answers with a banner (no cloud-init user, no login, no tests);
//   2. leaks: M releases with a fault injected in each (a failing test, a cancel mid-test, a
//      launch that errors after the VM started, a terminate that errors, the VM killed
//      mid-test, or none), then count the VMs, run dirs and monitor sockets left (goal 0).
// Usage: node dist/bench/image-test-step.js [cleanRuns=3] [faultRuns=10] [seed]
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import { publishBuild } from '../infra/devstack/build-service.js';
import { packagesOfDebianImage } from '../infra/devstack/image-packages.js';
import { createLocalCloud } from '../activities/local/index.js';
import type { CloudProvider, ReleaseRef, TestInstance } from '../activities/provider.js';
import { ephemeralKeyPair } from '../activities/common/image-tests/ssh-keys.js';
import { projectRoot, startBenchReleaseStack } from './release-stack.js';
import { fmt, median } from './stats.js';

Runtime.install({ logger: new DefaultLogger('WARN') });
const cleanRuns = Number(process.argv[2] ?? 3);
const faultRuns = Number(process.argv[3] ?? 10);
const seed = Number(process.argv[4] ?? Date.now() % 100_000);
const work = mkdtempSync(join(tmpdir(), 'imagecast-bench-tests-'));
const cloudDir = join(work, 'cloud');
const TESTS = ['test_hostname', 'test_cloud_init', 'test_sshd_running'];

const FAULTS = ['none', 'failing-test', 'cancel-mid-test', 'launch-error-after-boot', 'terminate-error', 'vm-killed-mid-test'] as const;
type Fault = (typeof FAULTS)[number];

/** Faults the wrapped provider injects, by release token: each fires once. */
const injected = new Map<string, Fault>();
const local = createLocalCloud({ dataDir: cloudDir });
const provider: CloudProvider = {
  ...local,
  async launchTestInstance(input) {
    const instance = await local.launchTestInstance!(input);
    if (injected.get(input.release.releaseToken) === 'launch-error-after-boot') {
      injected.delete(input.release.releaseToken);
      throw new Error('injected: the launch call failed after the VM had started');
    }
    return instance;
  },
  async terminateTestInstance(release: ReleaseRef, instance: TestInstance) {
    if (injected.get(release.releaseToken) === 'terminate-error') {
      injected.delete(release.releaseToken);
      throw new Error('injected: terminate failed, the VM is still running');
    }
    return local.terminateTestInstance!(release, instance);
  },
};

const image = execFileSync('bash', [join(projectRoot, 'infra/build-demo-image.sh')], { encoding: 'utf8' }).trim();
const { catalog, builds, buildServerUrl, client, stop } = await startBenchReleaseStack({
  work,
  providers: { local: provider },
  imageTests: { sshWaitMs: 300_000 },
});
// One build for every run (each run names its image differently): no 2 GiB copy per run.
await publishBuild(builds, {
  image: 'imagecast-demo',
  arch: 'x86_64',
  version: '1.0.0',
  release: '1',
  disk: image,
  compression: 'none',
  packages: await packagesOfDebianImage(image),
});
const job = (n: string, tests: unknown[] = TESTS) => ({
  cloud: 'local',
  cloud_account: 'bench',
  region: 'local-1',
  cloud_image_name: `bench-${n}-v{date}`,
  image_description: 'bench',
  download_url: buildServerUrl,
  image: 'imagecast-demo',
  last_service: 'test',
  tests,
});

try {
  console.log(`test step on the local cloud: Debian demo image, QEMU ${process.env.IMAGECAST_QEMU_ACCEL || 'tcg'}, tests ${TESTS.join(', ')}`);
  // 1. Baseline (same run): the provider boots the image; time until sshd sends its banner.
  const banner: number[] = [];
  for (let i = 0; i < cleanRuns; i++) banner.push(await bootToBanner(`baseline-${i}`));
  const sshAfter: number[] = [];
  const step: number[] = [];
  for (let i = 0; i < cleanRuns; i++) {
    const { releaseId } = await client.startRelease(job(`clean${i}`), { cloud: 'local' });
    const done = await client.waitForRelease(releaseId, { pollIntervalMs: 500 });
    if (done.state !== 'succeeded') throw new Error(`clean run ${i} ${done.state}: ${done.error}`);
    const t = done.steps.find((s) => s.name === 'test')!;
    step.push(Date.parse(t.finishedAt!) - Date.parse(t.startedAt!));
    sshAfter.push((await catalog.testRuns(releaseId))[0]!.sshAfterMs!);
  }
  const s = (ms: number[]) => ms.map((m) => fmt(m / 1000)).join(', ');
  console.log(`baseline: boot → sshd banner          ${fmt(median(banner) / 1000)} s median   runs: ${s(banner)}`);
  console.log(`launch → first SSH login (key via NoCloud) ${fmt(median(sshAfter) / 1000)} s median   runs: ${s(sshAfter)}   ratio ${fmt(median(sshAfter) / median(banner), 2)}`);
  console.log(`whole test step (launch, ${TESTS.length} tests, terminate) ${fmt(median(step) / 1000)} s median   runs: ${s(step)}   ratio ${fmt(median(step) / median(banner), 2)}`);

  // 2. Faults: every kind once, the rest drawn at random (seeded, so a run can be repeated).
  const random = mulberry32(seed);
  const plan: Fault[] = [...FAULTS, ...Array.from({ length: Math.max(0, faultRuns - FAULTS.length) }, () => FAULTS[Math.floor(random() * FAULTS.length)]!)]
    .slice(0, faultRuns)
    .sort(() => random() - 0.5);
  console.log(`\n${faultRuns} releases with a fault each (seed ${seed}):`);
  for (const [i, fault] of plan.entries()) {
    const outcome = await runWithFault(i, fault, random);
    const left = leaks();
    console.log(`  ${String(i + 1).padStart(2)}. ${fault.padEnd(24)} → ${outcome.padEnd(10)} VMs left ${left.vms}, run dirs ${left.dirs}, sockets ${left.sockets}`);
  }
  const left = leaks();
  console.log(`leaked after ${faultRuns} fault runs: ${left.vms} VMs, ${left.dirs} run dirs, ${left.sockets} monitor sockets (goal 0); local test instances use no cloud key pairs (the key lives in the activity's memory)`);
} finally {
  await stop();
}

/** One release with `fault` injected; resolves with how it ended. */
async function runWithFault(i: number, fault: Fault, random: () => number): Promise<string> {
  const tests = fault === 'failing-test' ? [...TESTS, { name: 'must-fail', command: 'false' }] : TESTS;
  const { releaseId } = await client.startRelease(job(`fault${i}`, tests), { cloud: 'local' });
  const token = await releaseToken(releaseId);
  if (fault === 'launch-error-after-boot' || fault === 'terminate-error') injected.set(token, fault);
  if (fault === 'cancel-mid-test' || fault === 'vm-killed-mid-test') {
    const pidFile = join(cloudDir, 'test-instances', token, 'qemu.pid');
    while (!existsSync(pidFile)) await sleep(200);
    await sleep(random() * 40_000); // anywhere from booting to running the tests
    if (fault === 'cancel-mid-test') await client.cancelRelease(releaseId);
    else {
      const pid = Number(readFileSync(pidFile, 'utf8').trim() || 0);
      if (pid > 0) process.kill(pid, 'SIGKILL');
    }
  }
  const done = await client.waitForRelease(releaseId, { pollIntervalMs: 500 });
  injected.delete(token);
  return done.state;
}

async function releaseToken(releaseId: string): Promise<string> {
  const { runId } = await client.temporal.workflow.getHandle(releaseId).describe();
  return runId; // the release token is the workflow run id
}

/** The baseline: boot the image with the provider and wait for the SSH banner. */
async function bootToBanner(name: string): Promise<number> {
  const release: ReleaseRef = { releaseId: name, releaseToken: `00000000-0000-4000-8000-${String(Date.now()).padStart(12, '0').slice(-12)}`, cloud: 'local', account: 'bench' };
  const baselineCloud = createLocalCloud({ dataDir: join(work, 'baseline-cloud') });
  // The provider boots images of its store: put the disk where an image of this id lives.
  const imageId = 'img-baseline';
  const imagesDir = join(work, 'baseline-cloud', 'bench', 'local-1', 'images');
  execFileSync('mkdir', ['-p', imagesDir]);
  const target = join(imagesDir, `${imageId}.raw`);
  if (!existsSync(target)) execFileSync('cp', ['--sparse=always', image, target]);
  const t0 = performance.now();
  const instance = await baselineCloud.launchTestInstance!({
    release,
    image: { region: 'local-1', imageId, imageName: 'baseline' },
    publicKey: ephemeralKeyPair('baseline').publicKey,
  });
  try {
    while (!(await sshBanner(instance.port))) await sleep(250);
    return performance.now() - t0;
  } finally {
    await baselineCloud.terminateTestInstance!(release, instance);
  }
}

function sshBanner(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(2000, () => done(false));
    socket.once('error', () => done(false));
    // QEMU accepts on the forwarded port before the guest listens, then closes: not yet.
    socket.once('close', () => done(false));
    socket.once('data', (d) => done(d.toString().startsWith('SSH-')));
  });
}

/** What the fault runs may have left: QEMU processes of this bench, run dirs, monitor sockets. */
function leaks(): { vms: number; dirs: number; sockets: number } {
  let vms = 0;
  for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    const cmdline = (() => {
      try {
        return readFileSync(`/proc/${pid}/cmdline`, 'utf8');
      } catch {
        return '';
      }
    })();
    if (cmdline.startsWith('/usr/bin/qemu-system') && cmdline.includes(cloudDir)) vms++;
  }
  const instances = join(cloudDir, 'test-instances');
  const dirs = existsSync(instances) ? readdirSync(instances).length : 0;
  const sockets = readdirSync(tmpdir()).filter((f) => f.startsWith('imagecast-vm-') && f.endsWith('.sock')).length;
  return { vms, dirs, sockets };
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** A small seeded PRNG, so a fault sequence can be replayed with the same seed. */
function mulberry32(a: number): () => number {
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
