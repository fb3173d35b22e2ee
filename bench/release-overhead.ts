// bench: wall time of a whole release of the demo job on the local cloud, from start (what
// `imagecast job add` calls) to done, against the time activities actually ran (union of
// their intervals from the workflow history). The difference is Temporal's orchestration
// overhead: task dispatch, polling, history writes. Usage: node dist/bench/release-overhead.js [runs] [sizeMiB]
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import type { temporal } from '@temporalio/proto';
import { publishBuild } from '../infra/devstack/build-service.js';
import { writeDemoDisk } from '../infra/devstack/demo-disk.js';
import { createLocalCloud } from '../activities/local/index.js';
import { projectRoot, startBenchReleaseStack } from './release-stack.js';
import { fmt, median } from './stats.js';

Runtime.install({ logger: new DefaultLogger('WARN') });
const runs = Number(process.argv[2] ?? 3);
const sizeMiB = Number(process.argv[3] ?? 128);
const work = mkdtempSync(join(tmpdir(), 'imagecast-bench-'));
const disk = join(work, 'disk.raw');
await writeDemoDisk(disk, sizeMiB);
const { builds, buildServerUrl, client, stop } = await startBenchReleaseStack({
  work,
  providers: { local: createLocalCloud({ dataDir: join(work, 'cloud') }) },
});
// The demo job without its image tests (they boot a VM: bench/image-test-step.ts measures
// them) and with a condition the generated disk's manifest meets: this measures the pipeline.
const job = {
  ...JSON.parse(readFileSync(join(projectRoot, 'examples/jobs/local-demo.json'), 'utf8')),
  tests: [],
  conditions: [{ package_name: 'kernel-default', version: '6.4.0', condition: '>=' }],
};

const walls: number[] = [];
const busy: number[] = [];
const sums: number[] = [];
try {
  for (let i = 1; i <= runs; i++) {
    await publishBuild(builds, {
      image: 'imagecast-demo',
      arch: 'x86_64',
      version: '1.0.0',
      release: String(i),
      disk,
      compression: 'xz',
      // The demo job's conditions ask for this package.
      packages: [{ name: 'kernel-default', version: '6.4.0', release: '1.1' }],
    });
    const t0 = performance.now();
    const { releaseId } = await client.startRelease({ ...job, download_url: buildServerUrl }, { cloud: 'local' });
    const handle = client.temporal.workflow.getHandle(releaseId);
    await handle.result();
    walls.push(performance.now() - t0);
    const { union, sum } = activityTime(await handle.fetchHistory());
    busy.push(union);
    sums.push(sum);
  }
  const wall = median(walls);
  console.log(`demo job, ${sizeMiB} MiB image (xz), ${runs} runs, medians`);
  console.log(`start → done (wall)             ${fmt(wall / 1000, 2)} s   runs: ${walls.map((w) => fmt(w / 1000, 2)).join(', ')}`);
  console.log(`activities running (union)      ${fmt(median(busy) / 1000, 2)} s`);
  console.log(`activity time summed            ${fmt(median(sums) / 1000, 2)} s (parallel regions overlap)`);
  console.log(`Temporal overhead               ${fmt((wall - median(busy)) / 1000, 2)} s (${fmt((100 * (wall - median(busy))) / wall)} % of wall)`);
} finally {
  await stop();
}

/** Activity execution intervals (started → closed) from a history: their union and their sum. */
function activityTime(history: temporal.api.history.v1.IHistory): { union: number; sum: number } {
  const ms = (t: temporal.api.history.v1.IHistoryEvent['eventTime']) => Number(t?.seconds ?? 0) * 1000 + (t?.nanos ?? 0) / 1e6;
  const started = new Map<string, number>();
  const intervals: Array<[number, number]> = [];
  for (const event of history.events ?? []) {
    if (event.activityTaskStartedEventAttributes) started.set(String(event.activityTaskStartedEventAttributes.scheduledEventId), ms(event.eventTime));
    const closed =
      event.activityTaskCompletedEventAttributes ?? event.activityTaskFailedEventAttributes ?? event.activityTaskTimedOutEventAttributes;
    if (closed) {
      const start = started.get(String(closed.scheduledEventId));
      if (start !== undefined) intervals.push([start, ms(event.eventTime)]);
    }
  }
  intervals.sort((a, b) => a[0] - b[0]);
  let union = 0;
  let end = -Infinity;
  for (const [s, e] of intervals) {
    if (s > end) union += e - s;
    else if (e > end) union += e - end;
    end = Math.max(end, e);
  }
  return { union, sum: intervals.reduce((t, [s, e]) => t + e - s, 0) };
}
