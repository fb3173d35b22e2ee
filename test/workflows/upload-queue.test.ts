import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import type { Client } from '@temporalio/client';
import type { ManagedProcess } from '../../infra/devstack/child-process.js';
import type { WorkerProblem } from '../../client/sdk/release-health.js';
import { startWorkerProcess } from '../support/worker-process.js';
import { startReleaseHarness, type ReleaseHarness } from '../support/release-harness.js';
import { replayAndRecord } from '../support/replay-history.js';
import { tempDir } from '../support/stack.js';

/** Each scheduled activity of a release: its type, task queue, and the worker identity that ran it. */
async function activitiesOf(temporal: Client, releaseId: string) {
  const events = (await temporal.workflow.getHandle(releaseId).fetchHistory()).events ?? [];
  const scheduled = new Map<string, { activity: string; taskQueue: string; ranBy?: string }>();
  for (const event of events) {
    const s = event.activityTaskScheduledEventAttributes;
    if (s)
      scheduled.set(String(event.eventId), {
        activity: s.activityType?.name ?? '?',
        taskQueue: s.taskQueue?.name ?? '?',
      });
    const started = event.activityTaskStartedEventAttributes;
    if (started) scheduled.get(String(started.scheduledEventId))!.ranBy = started.identity ?? undefined;
  }
  return [...scheduled.values()];
}

describe('uploads on a queue of their own (<prefix><cloud>-upload)', () => {
  let h: ReleaseHarness;
  const logs = tempDir('upload-queue-logs');
  const workers: ManagedProcess[] = [];
  const startCloudWorker = (queues: string) => {
    const worker = startWorkerProcess(h, queues, join(logs, `${queues}.log`), {
      IMAGECAST_LOCAL_DATA_DIR: h.localDataDir,
    });
    workers.push(worker);
    return worker;
  };

  before(async () => {
    // Workflows run in this process; the local cloud's queues in worker processes of the test's choosing.
    h = await startReleaseHarness('upload-queue', { queues: ['workflows'] });
  });
  after(async () => {
    for (const w of workers) await w.stop('SIGKILL');
    await h?.stop();
  });

  it('runs the upload on a worker serving local-upload only, every cloud call on one serving local-calls only; a missing upload worker is named, not silent', async () => {
    const calls = startCloudWorker('local-calls');
    let upload: ManagedProcess | undefined;
    const problems: WorkerProblem[] = [];
    await h.publish('1');
    const { releaseId } = await h.client.startRelease(h.job({ additional_regions: ['region-2'] }));
    const done = await h.client.waitForRelease(releaseId, {
      pollIntervalMs: 500,
      timeoutMs: 300_000,
      // Only the calls worker runs: the upload waits, and the health check says for what.
      onWorkerProblem: (found) => {
        problems.push(...found);
        if (!upload && found.some((p) => p.taskQueue === `${h.queuePrefix}local-upload`))
          upload = startCloudWorker('local-upload');
      },
    });
    assert.equal(done.state, 'succeeded', done.error);
    const named = problems.find((p) => p.taskQueue === `${h.queuePrefix}local-upload`);
    assert.ok(named, JSON.stringify(problems));
    assert.match(
      named.message,
      new RegExp(
        `uploadImage waits for one \\(start one: npm run worker -- --queues local-upload --queue-prefix ${h.queuePrefix}\\)`,
      ),
    );
    assert.deepEqual(h.imagesIn('region-2').length, 1);

    const ran = await activitiesOf(h.client.temporal, releaseId);
    const uploads = ran.filter((a) => a.activity === 'uploadImage');
    assert.equal(uploads.length, 1);
    assert.equal(uploads[0]!.taskQueue, `${h.queuePrefix}local-upload`);
    assert.match(
      uploads[0]!.ranBy!,
      new RegExp(`^${upload!.child.pid}@`),
      'the upload-only worker process ran it',
    );
    const cloudCalls = ran.filter((a) => a.taskQueue === `${h.queuePrefix}local`);
    assert.deepEqual([...new Set(cloudCalls.map((a) => a.activity))].sort(), [
      'createImage',
      'deleteDisk',
      'preflight',
      'publishImage',
      'replicateImage',
    ]);
    for (const call of cloudCalls)
      assert.match(
        call.ranBy!,
        new RegExp(`^${calls.child.pid}@`),
        `${call.activity} ran on the calls-only worker`,
      );
    assert.ok(ran.every((a) => a.taskQueue !== `${h.queuePrefix}local` || a.activity !== 'uploadImage'));
    await replayAndRecord(h.client.temporal, releaseId, 'release-local-upload-queue');
  });

  it('a worker given the cloud alone (--queues local, as before the split) serves both queues and completes a release', async () => {
    for (const w of workers.splice(0)) await w.stop();
    const both = startCloudWorker('local');
    await h.publish('2');
    const { releaseId } = await h.client.startRelease(
      h.job({ cloud_image_name: 'upload-queue-compat-v{date}-b{release}', additional_regions: [] }),
    );
    const done = await h.client.waitForRelease(releaseId, { pollIntervalMs: 500, timeoutMs: 300_000 });
    assert.equal(done.state, 'succeeded', done.error);
    const ran = await activitiesOf(h.client.temporal, releaseId);
    const upload = ran.find((a) => a.activity === 'uploadImage')!;
    assert.equal(upload.taskQueue, `${h.queuePrefix}local-upload`);
    assert.match(upload.ranBy!, new RegExp(`^${both.child.pid}@`));
    assert.match(ran.find((a) => a.activity === 'createImage')!.ranBy!, new RegExp(`^${both.child.pid}@`));
  });
});
