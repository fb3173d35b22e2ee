// bench: Imagecast under load on the Temporal dev server and on the multi-service cluster (on
// PostgreSQL), in one run. Tiny images on the local cloud, one region, no image tests: the
// releases are orchestration-bound, so this measures Temporal and our workflow, not uploads.
// Per server: (a) the knee, the highest sustained start rate whose p99 start → done stays
// under 2 s; (b) server + PostgreSQL CPU-seconds per release; (c) p99 activity
// schedule-to-start (from the histories); then (d) N releases on 3 worker processes per queue
// while one worker is SIGKILLed and restarted every 30 s: images lost or duplicated in the
// store and the catalog, and how long the last release took.
// Usage: node dist/bench/release-load.js [--servers dev,cluster] [--chaos-releases 1000] ...  (--help)
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import { publishBuild } from '../infra/devstack/build-service.js';
import { writeDemoDisk } from '../infra/devstack/demo-disk.js';
import { startLoadStack, type LoadStack, type ServerKind } from './load-stack.js';
import { countImages, releaseOnce, scheduleToStartMs, type ReleaseOutcome } from './load-releases.js';
import { fmt, median, percentile } from './stats.js';

const USAGE = `Usage: node dist/bench/release-load.js [options]
  --servers LIST          dev,cluster (default both, in that order; the cluster needs "bash infra/install-cluster.sh")
  --rates LIST            start rates to try, releases/s (default 1,2,4,8,16; stops after the first over the p99 limit)
  --step-seconds S        how long each rate is sustained (default 40)
  --chaos-releases N      releases in the worker-kill phase (default 1000; 0 skips it)
  --chaos-on LIST         servers that run the kill phase (default cluster)
  --chaos-rate R          start rate of the kill phase, releases/s (default: that server's knee, at least 1)
  --kill-every S          seconds between worker SIGKILLs (default 30)
  --workers-per-queue N   worker processes per queue in the kill phase (default 3)
  --chaos-timeout-min M   give up waiting for the kill phase's releases after this (default 40)`;

const { values: opts } = parseArgs({
  options: {
    servers: { type: 'string', default: 'dev,cluster' },
    rates: { type: 'string', default: '1,2,4,8,16' },
    'step-seconds': { type: 'string', default: '40' },
    'chaos-releases': { type: 'string', default: '1000' },
    'chaos-on': { type: 'string', default: 'cluster' },
    'chaos-rate': { type: 'string' },
    'kill-every': { type: 'string', default: '30' },
    'workers-per-queue': { type: 'string', default: '3' },
    'chaos-timeout-min': { type: 'string', default: '40' },
    help: { type: 'boolean' },
  },
});
if (opts.help) {
  console.log(USAGE);
  process.exit(0);
}
const servers = opts.servers.split(',') as ServerKind[];
const rates = opts.rates.split(',').map(Number);
const stepSeconds = Number(opts['step-seconds']);
const chaosReleases = Number(opts['chaos-releases']);
const chaosOn = opts['chaos-on'].split(',');
const killEverySeconds = Number(opts['kill-every']);
const workersPerQueue = Number(opts['workers-per-queue']);
const P99_LIMIT_MS = 2000;
const UPLOAD_SLOTS = 20;

// No shutdown signals for the SDK: the bench's own handler stops the stack it has running.
Runtime.install({ logger: new DefaultLogger('ERROR'), shutdownSignals: [] });
// Every server and worker process adds an exit listener (it kills them if we die).
process.setMaxListeners(100);
let running: LoadStack | undefined;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    console.error(`${signal}: stopping the stack`);
    void (running?.stop() ?? Promise.resolve()).finally(() => process.exit(130));
  });
}
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const log = (line: string) => console.log(`[${new Date().toISOString().slice(11, 19)}] ${line}`);
const work = mkdtempSync(join(tmpdir(), 'imagecast-load-disk-'));
const disk = join(work, 'disk.raw');
await writeDemoDisk(disk, 1);

interface Step {
  rate: number;
  releases: number;
  p50: number;
  p99: number;
  notSucceeded: number;
  serverCpu: number;
  postgresCpu: number;
  workerCpu: number;
  s2sP50: number;
  s2sP99: number;
}

interface Chaos {
  releases: number;
  rate: number;
  kills: number;
  /** Releases whose start call failed (no workflow was started). */
  neverStarted: number[];
  lost: number;
  duplicated: number;
  notSucceeded: number;
  makespanS: number;
  /** Some releases had not ended by --chaos-timeout-min: they count as lost, and the times are not final. */
  timedOut: boolean;
  slowestS: number;
  lastS: number;
  detail: string;
}

interface ServerFigures {
  kind: ServerKind;
  idleCpuPerS: number;
  steps: Step[];
  knee: number;
  chaos?: Chaos;
}

/** Starts `count` releases at `rate` per second (open loop: a slow one does not delay the next); resolves when all are done. */
async function releaseAtRate(
  stack: LoadStack,
  tag: string,
  first: number,
  count: number,
  rate: number,
): Promise<ReleaseOutcome[]> {
  const t0 = Date.now();
  const runs: Array<Promise<ReleaseOutcome>> = [];
  for (let i = 0; i < count; i++) {
    const due = t0 + (i * 1000) / rate;
    if (due > Date.now()) await sleep(due - Date.now());
    runs.push(
      releaseOnce(stack, tag, first + i).catch((error: Error) => ({
        n: first + i,
        releaseId: '',
        latencyMs: Infinity,
        state: `start failed: ${error.message}`,
      })),
    );
  }
  return Promise.all(runs);
}

async function kneeStep(stack: LoadStack, rate: number, first: number): Promise<Step> {
  const count = Math.round(rate * stepSeconds);
  const before = stack.cpu();
  const outcomes = await releaseAtRate(stack, 'knee', first, count, rate);
  const after = stack.cpu();
  const latencies = outcomes.map((o) => o.latencyMs);
  const s2s = await scheduleToStartMs(
    stack,
    outcomes.filter((o) => o.releaseId).map((o) => o.releaseId),
  );
  return {
    rate,
    releases: count,
    p50: median(latencies),
    p99: percentile(latencies, 0.99),
    notSucceeded: outcomes.filter((o) => o.state !== 'succeeded').length,
    serverCpu: (after.server - before.server) / count,
    postgresCpu: (after.postgres - before.postgres) / count,
    workerCpu: (after.workers - before.workers) / count,
    s2sP50: median(s2s),
    s2sP99: percentile(s2s, 0.99),
  };
}

async function chaosPhase(stack: LoadStack, rate: number): Promise<Chaos> {
  await stack.stopWorkers();
  const queues = ['workflows', 'local-calls', 'local-upload'];
  for (let i = 0; i < workersPerQueue; i++) for (const q of queues) await stack.startWorker(q);
  await Promise.all(stack.workers.map((w) => stack.waitUntilPolling(w)));
  log(
    `kill phase: ${chaosReleases} releases at ${rate}/s on ${stack.workers.length} workers, one SIGKILLed every ${killEverySeconds} s`,
  );
  let kills = 0;
  let killing = true;
  const killer = (async () => {
    while (killing) {
      await sleep(killEverySeconds * 1000);
      if (!killing) break;
      // Round robin over the queues, so each kind of worker dies mid-task in turn.
      const queue = queues[kills % queues.length]!;
      const victims = stack.workers.filter((w) => w.queues === queue);
      const victim = victims[Math.floor(kills / queues.length) % victims.length]!;
      await stack.killAndRestart(victim);
      kills++;
    }
  })();
  const t0 = Date.now();
  const timeoutMs = Number(opts['chaos-timeout-min']) * 60_000;
  const all = releaseAtRate(stack, 'chaos', 1, chaosReleases, rate);
  let timer: NodeJS.Timeout | undefined;
  const outcomes = await Promise.race([
    all,
    new Promise<undefined>((r) => (timer = setTimeout(() => r(undefined), timeoutMs))),
  ]);
  // Else the bench would sit idle until the timeout, its stack long stopped.
  clearTimeout(timer);
  const makespanS = (Date.now() - t0) / 1000;
  killing = false;
  await killer;
  const counts = await countImages(stack, 'chaos', chaosReleases);
  // A start the server refused or timed out is no release: its missing image is not a lost one.
  const neverStarted = new Set((outcomes ?? []).filter((o) => !o.releaseId).map((o) => o.n));
  const lost = new Set([...counts.lostInStore, ...counts.lostInCatalog].filter((n) => !neverStarted.has(n)));
  const duplicated = new Set([...counts.duplicatedInStore, ...counts.duplicatedInCatalog]);
  const done = outcomes ?? [];
  const last = done.reduce(
    (a, b) => (b.n > a.n ? b : a),
    done[0] ?? { n: 0, latencyMs: NaN, releaseId: '', state: '' },
  );
  return {
    releases: chaosReleases,
    rate,
    kills,
    neverStarted: [...neverStarted],
    lost: lost.size,
    duplicated: duplicated.size,
    notSucceeded: outcomes ? done.filter((o) => o.state !== 'succeeded').length : NaN,
    makespanS,
    timedOut: outcomes === undefined,
    slowestS: Math.max(...done.filter((o) => o.releaseId).map((o) => o.latencyMs)) / 1000,
    lastS: last.latencyMs / 1000,
    detail:
      `${outcomes ? 'all ended' : `TIMED OUT after ${opts['chaos-timeout-min']} min`}; store: lost ${JSON.stringify(counts.lostInStore.slice(0, 20))}, ` +
      `duplicated ${JSON.stringify(counts.duplicatedInStore.slice(0, 20))}; catalog: lost ${JSON.stringify(counts.lostInCatalog.slice(0, 20))}, ` +
      `duplicated ${JSON.stringify(counts.duplicatedInCatalog.slice(0, 20))}; left in staging ${counts.leftoverStaging}, disks ${counts.leftoverDisks}; ` +
      `not succeeded: ${JSON.stringify(done.filter((o) => o.state !== 'succeeded').slice(0, 5))}`,
  };
}

async function measure(kind: ServerKind): Promise<ServerFigures> {
  log(`${kind}: starting PostgreSQL, Temporal, a build service, one worker (workflows,local)`);
  const stack = await startLoadStack(kind, { uploadSlots: UPLOAD_SLOTS });
  running = stack;
  try {
    await publishBuild(stack.builds, {
      image: 'load-image',
      arch: 'x86_64',
      version: '1.0.0',
      release: '1',
      disk,
      compression: 'none',
    });
    await stack.waitUntilPolling(await stack.startWorker('workflows,local'));
    // Warm up: workflow bundle loaded, connections and caches made.
    await releaseAtRate(stack, 'warm', 1, 5, 1);
    const idle0 = stack.cpu();
    await sleep(10_000);
    const idle1 = stack.cpu();
    const idleCpuPerS = (idle1.server + idle1.postgres - idle0.server - idle0.postgres) / 10;
    log(`${kind}: idle server+PostgreSQL ${fmt(idleCpuPerS, 3)} CPU-s/s`);
    const steps: Step[] = [];
    let first = 1;
    for (const rate of rates) {
      const step = await kneeStep(stack, rate, first);
      first += step.releases;
      steps.push(step);
      log(
        `${kind}: ${rate}/s × ${stepSeconds} s: p50 ${fmt(step.p50 / 1000, 2)} s, p99 ${fmt(step.p99 / 1000, 2)} s, ` +
          `CPU-s/release server ${fmt(step.serverCpu, 3)} + PostgreSQL ${fmt(step.postgresCpu, 3)} (workers ${fmt(step.workerCpu, 3)}), ` +
          `activity schedule-to-start p50 ${fmt(step.s2sP50, 0)} ms p99 ${fmt(step.s2sP99, 0)} ms, not succeeded ${step.notSucceeded}`,
      );
      if (step.p99 >= P99_LIMIT_MS) break;
    }
    const knee = Math.max(0, ...steps.filter((s) => s.p99 < P99_LIMIT_MS).map((s) => s.rate));
    const figures: ServerFigures = { kind, idleCpuPerS, steps, knee };
    if (chaosReleases > 0 && chaosOn.includes(kind)) {
      figures.chaos = await chaosPhase(stack, Number(opts['chaos-rate'] ?? Math.max(1, knee)));
      const c = figures.chaos;
      log(
        `${kind}: kill phase: ${c.lost} lost, ${c.duplicated} duplicated, ${c.kills} kills, all ended after ${fmt(c.makespanS, 0)} s, slowest ${fmt(c.slowestS, 1)} s, last started ${fmt(c.lastS, 1)} s; ${c.detail}`,
      );
    }
    return figures;
  } finally {
    running = undefined;
    await stack.stop();
  }
}

const results: ServerFigures[] = [];
try {
  for (const kind of servers) results.push(await measure(kind));
} finally {
  rmSync(work, { recursive: true, force: true });
}

/** The figures at the knee (or the lowest rate when none stays under the limit). */
const atKnee = (f: ServerFigures) => f.steps.find((s) => s.rate === f.knee) ?? f.steps[0]!;
const cpuPerRelease = (f: ServerFigures) =>
  median(
    f.steps.filter((s) => s.rate <= Math.max(f.knee, rates[0]!)).map((s) => s.serverCpu + s.postgresCpu),
  );
console.log(
  `\nlocal cloud, 1 MiB raw image, 1 region, no image tests; ${stepSeconds} s per rate; p99 limit ${P99_LIMIT_MS / 1000} s`,
);
console.log(
  'server   knee (rel/s)  p99 at knee  server+PG CPU-s/release (median ≤ knee)  activity sched→start p99 at knee  idle CPU-s/s',
);
for (const f of results)
  console.log(
    `${f.kind.padEnd(8)} ${String(f.knee).padEnd(13)} ${fmt(atKnee(f).p99 / 1000, 2).padEnd(12)} ${fmt(cpuPerRelease(f), 3).padEnd(40)} ${`${fmt(atKnee(f).s2sP99, 0)} ms`.padEnd(33)} ${fmt(f.idleCpuPerS, 3)}`,
  );
const dev = results.find((f) => f.kind === 'dev');
const cluster = results.find((f) => f.kind === 'cluster');
if (dev && cluster) {
  console.log(
    `cluster ÷ dev server: knee ${fmt(cluster.knee / Math.max(dev.knee, 1e-9), 2)}, CPU-s/release ${fmt(cpuPerRelease(cluster) / cpuPerRelease(dev), 2)}, ` +
      `p99 schedule-to-start at knee ${fmt(atKnee(cluster).s2sP99 / atKnee(dev).s2sP99, 2)}`,
  );
}
for (const f of results.filter((r) => r.chaos)) {
  const c = f.chaos!;
  console.log(
    `${f.kind}: ${c.releases} releases at ${c.rate}/s, ${workersPerQueue} workers per queue, ${c.kills} SIGKILLs (every ${killEverySeconds} s): ` +
      `${c.lost} lost, ${c.duplicated} duplicated, ${c.notSucceeded} not succeeded, start failed ${JSON.stringify(c.neverStarted)}; ` +
      (c.timedOut
        ? `NOT ALL ENDED within ${opts['chaos-timeout-min']} min (those count as lost); `
        : `all ended ${fmt(c.makespanS, 0)} s after the first start; `) +
      `slowest release ${fmt(c.slowestS, 1)} s; last started ${fmt(c.lastS, 1)} s`,
  );
}
