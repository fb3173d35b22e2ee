// A blocked release waits for a person for days: neither its worker dying nor the Temporal
// server restarting may lose it. Its own dev server (persisted to SQLite, restarted on the same
// port) and the real worker binary as a process the test SIGKILLs; the local cloud's CLOSED
// file blocks region-4.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ManagedProcess } from '../../infra/devstack/child-process.js';
import { freePort } from '../../infra/devstack/free-port.js';
import { startTemporalDevServer, type TemporalDevServer } from '../../infra/devstack/temporal-dev-server.js';
import type { ReleaseStatus } from '../../client/sdk/index.js';
import { startReleaseHarness, type ReleaseHarness } from '../support/release-harness.js';
import { startWorkerProcess } from '../support/worker-process.js';
import { tempDir } from '../support/stack.js';

const REGIONS = ['region-1', 'region-2', 'region-3', 'region-4'];

describe('a blocked release across a worker SIGKILL and a Temporal server restart', () => {
  const stateDir = tempDir('blocked-restart-temporal');
  const logs = tempDir('blocked-restart-logs');
  let port: number;
  let server: TemporalDevServer;
  let h: ReleaseHarness;
  const workers: ManagedProcess[] = [];

  const startServer = () => startTemporalDevServer({ stateDir, headless: true, persist: true, port, keepsParentAlive: false });
  const startWorker = (name: string) => {
    const worker = startWorkerProcess(h, 'workflows,local', join(logs, `${name}.log`), {
      IMAGECAST_LOCAL_DATA_DIR: h.localDataDir,
    });
    workers.push(worker);
    return worker;
  };
  const closedFile = () => join(h.localDataDir, 'test', 'region-4', 'CLOSED');

  before(async () => {
    port = await freePort();
    server = await startServer();
    // No worker in this process: the workflows and local queues run in the killable worker.
    h = await startReleaseHarness('blocked-restart', { queues: [], temporalAddress: server.address });
    await h.publish('1');
  });
  after(async () => {
    for (const w of workers) await w.stop('SIGKILL');
    await h.stop();
    await server.stop();
  });

  it('is still blocked afterwards, keeps its 3 images, and resumes to all 4 regions', async () => {
    mkdirSync(join(h.localDataDir, 'test', 'region-4'), { recursive: true });
    writeFileSync(closedFile(), 'image quota reached');
    const first = startWorker('first');
    const { releaseId } = await h.client.startRelease(h.job());
    const blocked = await h.client.waitForRelease(releaseId, { pollIntervalMs: 200 });
    assert.equal(blocked.state, 'blocked', blocked.error);

    await first.stop('SIGKILL');
    await server.stop();
    server = await startServer();
    startWorker('second');

    const after = await eventually(() => h.client.getRelease(releaseId), (s) => s.state === 'blocked');
    assert.deepEqual(after.blocked?.regions.map((r) => r.region), ['region-4']);
    const description = await h.client.temporal.workflow.getHandle(releaseId).describe();
    assert.equal(description.searchAttributes.ReleaseStatus?.[0], 'blocked', 'the search attribute survived the restart');
    for (const region of REGIONS.slice(0, 3)) assert.equal(imagesOf(after, region).length, 1, `kept in ${region}`);

    rmSync(closedFile());
    await h.client.resumeRelease(releaseId, { by: 'alice' });
    const done = await h.client.waitForRelease(releaseId, { pollIntervalMs: 200 });
    assert.equal(done.state, 'succeeded', done.error);
    assert.deepEqual(done.images.map((i) => i.region).sort(), REGIONS);
    for (const region of REGIONS) assert.equal(imagesOf(done, region).length, 1, `exactly one image in ${region}`);
  });

  const imagesOf = (status: ReleaseStatus, region: string) => h.imagesIn(region).filter((i) => i.imageName === status.imageName);
});

/** Polls `read` until `done` holds (the restarted server and worker take a few seconds to answer). */
async function eventually<T>(read: () => Promise<T>, done: (value: T) => boolean, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const value = await read();
      if (done(value)) return value;
      last = value;
    } catch (error) {
      last = error;
    }
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  throw new Error(`not done after ${timeoutMs} ms; last: ${last instanceof Error ? last.message : JSON.stringify(last)}`);
}
