// `job retry` of a release that left intact artifacts (it was terminated: no saga ran) adopts
// them instead of uploading and copying again. Real dev server, PostgreSQL and the local cloud,
// whose regions can be closed to copies (a CLOSED file), so the first run stops after create.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startReleaseHarness, type ReleaseHarness } from '../support/release-harness.js';
import { replayAndRecord } from '../support/replay-history.js';
import type { ReleaseStatus } from '../../client/sdk/index.js';

describe('job retry reuses what the earlier run left', () => {
  let h: ReleaseHarness;
  before(async () => {
    h = await startReleaseHarness('reuse');
    await h.publish('1');
  });
  after(() => h.stop());

  const closedFile = (region: string) => join(h.localDataDir, 'test', region, 'CLOSED');
  const step = (status: ReleaseStatus, name: string) => status.steps.find((s) => s.name === name)!;
  const disksIn = (region: string) =>
    readdirSync(join(h.localDataDir, 'test', region, 'disks')).filter((f) => f.endsWith('.raw'));

  it('a release terminated after create: the retry adopts its disk, image and copies, uploads nothing and copies only where none is', async () => {
    mkdirSync(join(h.localDataDir, 'test', 'region-2'), { recursive: true });
    writeFileSync(closedFile('region-2'), 'image quota reached');
    const { releaseId } = await h.client.startRelease(
      h.job({ cloud_image_name: 'reused-v{date}-b{release}' }),
    );
    const blocked = await h.client.waitForRelease(releaseId, { pollIntervalMs: 200 });
    assert.equal(blocked.state, 'blocked', blocked.error);
    const handle = h.client.temporal.workflow.getHandle(releaseId);
    const earlierRun = (await handle.describe()).runId;
    const imageName = blocked.imageName;
    const madeBefore = ['region-1', 'region-3', 'region-4'].map(
      (r) => h.imagesIn(r).find((i) => i.imageName === imageName)?.imageId,
    );
    assert.ok(madeBefore.every(Boolean), 'the first run made its image and two copies');
    const [diskBefore] = disksIn('region-1');
    assert.ok(diskBefore, 'the first run uploaded a disk');

    // Terminated: no saga runs, so the disk, the image and its copies stay behind.
    await handle.terminate('the worker pool was torn down');
    rmSync(closedFile('region-2'));
    const { runId } = await h.client.retryRelease(releaseId);
    const done = await h.client.waitForRelease(releaseId, { pollIntervalMs: 200 });
    assert.equal(done.state, 'succeeded', done.error);

    const from = `from the earlier run ${earlierRun}`;
    assert.match(
      step(done, 'upload').detail!,
      new RegExp(`^reused ${diskBefore.replace('.raw', '')} ${from}: nothing uploaded$`),
    );
    assert.equal(step(done, 'create').detail, `reused ${madeBefore[0]} ${from} in region-1`);
    assert.match(
      step(done, 'replicate').detail!,
      new RegExp(
        `region-2: img-\\w+, region-3: reused ${madeBefore[1]} ${from}, region-4: reused ${madeBefore[2]} ${from}`,
      ),
    );
    assert.deepEqual(
      done.reused?.map((r) => [r.kind, r.region, r.fromRun]),
      [
        ['disk', 'region-1', earlierRun],
        ['image', 'region-1', earlierRun],
        ['image', 'region-3', earlierRun],
        ['image', 'region-4', earlierRun],
      ],
    );
    // No second upload: the retry scheduled no upload and made no disk of its own.
    const history = await h.client.temporal.workflow.getHandle(releaseId, runId).fetchHistory();
    const scheduled = (history.events ?? [])
      .map((e) => e.activityTaskScheduledEventAttributes?.activityType?.name)
      .filter(Boolean);
    assert.ok(scheduled.includes('adoptReusable'));
    assert.ok(!scheduled.includes('uploadImage'), `activities: ${scheduled.join(', ')}`);
    assert.ok(!scheduled.includes('createImage'));
    assert.deepEqual(disksIn('region-1'), [], 'the cleanup of the retry removed the adopted disk');

    // One image per region, the same ids, now the retry's and published; the catalog agrees.
    for (const [i, region] of ['region-1', 'region-3', 'region-4'].entries()) {
      const images = h.imagesIn(region).filter((m) => m.imageName === imageName);
      assert.deepEqual(
        images.map((m) => [m.imageId, m.releaseToken, m.visibility]),
        [[madeBefore[i], runId, 'public']],
      );
    }
    assert.equal(h.imagesIn('region-2').filter((m) => m.imageName === imageName).length, 1);
    const catalog = await h.catalog.findByName({ cloud: 'local', account: 'test', imageName });
    assert.deepEqual(
      catalog.map((c) => [c.region, c.state, c.releaseToken]).sort(),
      ['region-1', 'region-2', 'region-3', 'region-4'].map((r) => [r, 'active', runId]),
    );
    await replayAndRecord(h.client.temporal, releaseId, 'release-local-retry-reuse');
  });
});
