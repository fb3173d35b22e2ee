// The worker binary's Prometheus endpoint (IMAGECAST_METRICS_ADDRESS): the SDK's temporal_*
// metrics and ours, moved by real releases on the local cloud served by that process.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ManagedProcess } from '../../infra/devstack/child-process.js';
import { startReleaseHarness, type ReleaseHarness } from '../support/release-harness.js';
import { tempDir } from '../support/stack.js';
import { startWorkerProcess } from '../support/worker-process.js';

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** `name{labels} value` lines of a scrape whose labels include every one of `labels`. */
function sample(scrape: string, name: string, labels: Record<string, string> = {}): number | undefined {
  const values = scrape
    .split('\n')
    .filter((line) => line.startsWith(`${name}{`) || line.startsWith(`${name} `))
    .filter((line) => Object.entries(labels).every(([k, v]) => line.includes(`${k}="${v}"`)))
    .map((line) => Number(line.slice(line.lastIndexOf(' ') + 1)));
  return values.length ? values.reduce((a, b) => a + b, 0) : undefined;
}

describe('worker metrics (Prometheus)', () => {
  let h: ReleaseHarness;
  let worker: ManagedProcess;
  let url: string;

  before(async () => {
    // No in-process workers: the binary serves the queues.
    h = await startReleaseHarness('metrics', { queues: [] });
    const address = `127.0.0.1:${await freePort()}`;
    url = `http://${address}/metrics`;
    worker = startWorkerProcess(h, 'workflows,local', join(tempDir('metrics-worker'), 'worker.log'), {
      IMAGECAST_LOCAL_DATA_DIR: h.localDataDir,
      IMAGECAST_METRICS_ADDRESS: address,
      IMAGECAST_HEARTBEAT_THROTTLE_SECONDS: '1',
      IMAGECAST_ACTIVITY_SLOTS: '7',
      IMAGECAST_UPLOAD_SLOTS: '3',
    });
    const log = () => readFileSync(worker.logFile, 'utf8');
    for (let i = 0; i < 600 && !log().includes('worker started'); i++)
      await new Promise((r) => setTimeout(r, 100));
    assert.match(log(), new RegExp(`"metrics":"${url.replace(/[.]/g, '\\.')}"`), log());
  });
  after(async () => {
    worker?.child.kill('SIGTERM');
    await worker?.exited;
    await h?.stop();
  });

  const scrape = async () => {
    const res = await fetch(url);
    assert.equal(res.status, 200);
    return res.text();
  };

  it('counts releases by outcome, upload bytes and speed, next to the SDK metrics', async () => {
    const before = await scrape();
    assert.equal(
      sample(before, 'imagecast_releases', { cloud: 'local' }),
      undefined,
      'nothing counted before a release',
    );

    await h.publish('1');
    const ok = await h.client.startRelease(h.job({ additional_regions: [] }));
    assert.equal((await h.client.waitForRelease(ok.releaseId, { pollIntervalMs: 200 })).state, 'succeeded');
    await h.publish('2', { corruptChecksum: true });
    const bad = await h.client.startRelease(h.job({ additional_regions: [] }));
    assert.equal((await h.client.waitForRelease(bad.releaseId, { pollIntervalMs: 200 })).state, 'failed');

    // The exporter reads the meters as it is scraped: give the last samples a moment.
    let after = '';
    for (let i = 0; i < 50; i++) {
      after = await scrape();
      if (sample(after, 'imagecast_releases', { cloud: 'local', outcome: 'failed' }) === 1) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    assert.equal(sample(after, 'imagecast_releases', { cloud: 'local', outcome: 'succeeded' }), 1, after);
    assert.equal(sample(after, 'imagecast_releases', { cloud: 'local', outcome: 'failed' }), 1);
    assert.equal(
      sample(after, 'imagecast_release_seconds_count', { cloud: 'local', outcome: 'succeeded' }),
      1,
    );
    // One upload succeeded (16 MiB disk); the corrupt one counted nothing.
    assert.equal(sample(after, 'imagecast_upload_disk_bytes', { cloud: 'local' }), 16 * 2 ** 20);
    const sent = sample(after, 'imagecast_upload_sent_bytes', { cloud: 'local' })!;
    assert.ok(sent > 0 && sent <= 16 * 2 ** 20, `sent ${sent}`);
    assert.equal(sample(after, 'imagecast_upload_mib_per_second_count', { cloud: 'local' }), 1);
    // The SDK's own, for the same process: workflow and activity task counts.
    assert.ok((sample(after, 'temporal_workflow_completed') ?? 0) >= 1, 'temporal_workflow_completed');
    assert.ok(
      (sample(after, 'temporal_activity_execution_failed', { activity_type: 'uploadImage' }) ?? 0) >= 1,
      'the failed upload',
    );

    // The Grafana dashboard asks only for metrics a worker exports: seen in this scrape, or
    // (ours that count rarer events: blocks, image tests) documented in docs/operations.md.
    const dashboard = JSON.parse(
      readFileSync(
        fileURLToPath(new URL('../../../infra/grafana/imagecast-dashboard.json', import.meta.url)),
        'utf8',
      ),
    ) as {
      panels: Array<{ title: string; targets: Array<{ expr: string }> }>;
    };
    const exported = new Set([...after.matchAll(/^# TYPE (\S+) /gm)].map((m) => m[1]!));
    const documented = readFileSync(
      fileURLToPath(new URL('../../../docs/operations.md', import.meta.url)),
      'utf8',
    );
    const names = (expr: string) =>
      [...expr.matchAll(/\b(?:imagecast|temporal)_[a-z_]+/g)].map((m) =>
        m[0].replace(/_(bucket|sum|count)$/, ''),
      );
    const asked = new Set(dashboard.panels.flatMap((p) => p.targets.flatMap((t) => names(t.expr))));
    assert.ok(asked.size >= 10, `metrics in the dashboard: ${[...asked].join(', ')}`);
    for (const name of asked) {
      const known =
        exported.has(name) || (name.startsWith('imagecast_') && documented.includes(`\`${name}\``));
      assert.ok(known, `the dashboard asks for ${name}, which no worker exports`);
    }
  });

  it('reports the activity slots IMAGECAST_ACTIVITY_SLOTS and IMAGECAST_UPLOAD_SLOTS give each queue (what KEDA scales on)', async () => {
    const slotsOf = (scrape: string, metric: string, queue: string) =>
      sample(scrape, metric, { task_queue: `${h.queuePrefix}${queue}`, worker_type: 'ActivityWorker' });
    let now = '';
    for (let i = 0; i < 50; i++) {
      now = await scrape();
      if (
        slotsOf(now, 'temporal_worker_task_slots_available', 'local') !== undefined &&
        slotsOf(now, 'temporal_worker_task_slots_available', 'local-upload') !== undefined
      )
        break;
      await new Promise((r) => setTimeout(r, 200));
    }
    const total = (queue: string) =>
      (slotsOf(now, 'temporal_worker_task_slots_available', queue) ?? 0) +
      (slotsOf(now, 'temporal_worker_task_slots_used', queue) ?? 0);
    assert.equal(total('local'), 7, now);
    // `--queues local` serves the upload queue too, with its own (few) slots.
    assert.equal(total('local-upload'), 3, now);
  });
});
