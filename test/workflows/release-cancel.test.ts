import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startReleaseHarness, type ReleaseHarness } from '../support/release-harness.js';
import { statusQuery } from '../../workflows/queries.js';

describe('cancelling a release', () => {
  let h: ReleaseHarness;
  before(async () => {
    h = await startReleaseHarness('cancel', { diskMiB: 32 });
  });
  after(() => h.stop());

  it('stops the upload mid-stream and leaves nothing half-made', async () => {
    await h.publish('1');
    h.buildServer.setThrottle(2 * 1024 * 1024);
    const before = h.allCloudFiles();
    const { releaseId } = await h.client.startRelease(h.job());
    const handle = h.client.temporal.workflow.getHandle(releaseId);
    // Wait until bytes are flowing into the cloud, then cancel.
    for (;;) {
      const description = await handle.describe();
      const upload = description.raw.pendingActivities?.find((a) => a.activityType?.name === 'uploadImage');
      if (upload?.heartbeatDetails) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    assert.equal((await handle.query(statusQuery)).currentStep, 'upload');
    await h.client.cancelRelease(releaseId);
    const status = await h.client.waitForRelease(releaseId, { pollIntervalMs: 200 });
    assert.equal(status.state, 'cancelled');
    assert.equal(status.steps.find((s) => s.name === 'upload')!.state, 'failed');
    assert.deepEqual(h.allCloudFiles(), before, 'no staging file, disk or image left');
    assert.deepEqual(await h.catalog.listImages({ cloud: 'local' }), []);
  });
});
