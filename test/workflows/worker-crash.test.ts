import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import type { ManagedProcess } from '../../infra/devstack/child-process.js';
import { startWorkerProcess } from '../support/worker-process.js';
import { uploadProgressAtLeast } from '../support/upload-progress.js';
import { startReleaseHarness, type ReleaseHarness } from '../support/release-harness.js';
import { tempDir } from '../support/stack.js';

describe('a worker killed during upload', () => {
  let h: ReleaseHarness;
  const logs = tempDir('crash-logs');
  const workers: ManagedProcess[] = [];
  const startCloudWorker = (name: string) => {
    const worker = startWorkerProcess(h, 'local', join(logs, `${name}.log`), {
      IMAGECAST_LOCAL_DATA_DIR: h.localDataDir,
    });
    workers.push(worker);
    return worker;
  };

  before(async () => {
    // Only the workflows queue runs in this process; the cloud queue runs in killable workers.
    h = await startReleaseHarness('crash', { queues: ['workflows'], diskMiB: 32 });
  });
  after(async () => {
    for (const w of workers) await w.stop('SIGKILL');
    await h.stop();
  });

  it('is replaced by a new worker that resumes the upload and makes exactly one image per region', async () => {
    await h.publish('1');
    h.buildServer.setThrottle(3 * 1024 * 1024);
    const first = startCloudWorker('first');
    const { releaseId } = await h.client.startRelease(h.job());

    await uploadProgressAtLeast(h.client.temporal, releaseId, 4 * 1024 * 1024);
    await first.stop('SIGKILL');
    h.buildServer.setThrottle(undefined);
    startCloudWorker('second');

    const status = await h.client.waitForRelease(releaseId, { pollIntervalMs: 500 });
    assert.equal(status.state, 'succeeded', status.error);
    for (const region of ['region-1', 'region-2', 'region-3', 'region-4']) {
      assert.equal(h.imagesIn(region).length, 1, `exactly one image in ${region}`);
    }
    // The retry re-reads the image from its start to rebuild the checksum (node:crypto's state
    // cannot be saved) and writes only what the first worker had not.
    const reads = h.buildServer.requests.filter((r) => r.path.endsWith('.raw.xz') || r.path.endsWith('.raw'));
    assert.ok(reads.length >= 2, 'the retry read the image again');
    assert.equal((await h.catalog.listImages({ cloud: 'local', state: 'active' })).length, 4);
    assert.ok(
      h.allCloudFiles().every((f) => !f.includes('staging/') && !f.includes('disks/')),
      'no staging upload or intermediate disk left',
    );
  });
});
