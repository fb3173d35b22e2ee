import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeFile } from 'node:fs/promises';
import { WorkflowFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import proto from '@temporalio/proto';

const { temporal } = proto;
import { startReleaseHarness, type ReleaseHarness } from '../support/release-harness.js';
import { ReleaseAlreadyRunningError } from '../../client/sdk/index.js';
import { queueName } from '../../schemas/steps.js';

describe('release workflow on the local cloud', () => {
  let h: ReleaseHarness;
  before(async () => {
    h = await startReleaseHarness('release');
  });
  after(() => h.stop());

  it('releases an image through every step, to every region, and the next release deprecates it', async () => {
    await h.publish('1');
    const first = await h.client.startRelease(h.job());
    const done = await h.client.waitForRelease(first.releaseId, { pollIntervalMs: 200 });
    assert.equal(done.state, 'succeeded', done.error);
    assert.deepEqual(
      done.steps.map((s) => `${s.name}:${s.state}`),
      [
        'download:succeeded',
        'upload:succeeded',
        'create:succeeded',
        'test:skipped',
        'raw_image_upload:skipped',
        'replicate:succeeded',
        'publish:succeeded',
        'deprecate:succeeded',
        'cleanup:succeeded',
      ],
    );
    assert.match(done.steps.find((s) => s.name === 'test')!.detail!, /no tests/);
    assert.match(done.imageName, /^release-v\d{8}-b1$/);
    assert.deepEqual(done.images.map((i) => i.region).sort(), [
      'region-1',
      'region-2',
      'region-3',
      'region-4',
    ]);

    // Every region holds one public image whose disk is byte-identical to the source.
    const source = readFileSync(h.diskPath);
    for (const region of ['region-1', 'region-2', 'region-3', 'region-4']) {
      const images = h.imagesIn(region);
      assert.equal(images.length, 1, `one image in ${region}`);
      assert.equal(images[0]!.visibility, 'public');
      const imageId = String(images[0]!.imageId);
      const disk = readFileSync(join(h.localDataDir, 'test', region, 'images', `${imageId}.raw`));
      assert.ok(disk.equals(source), `disk in ${region} equals the source`);
    }
    const active = await h.catalog.listImages({ cloud: 'local', account: 'test', state: 'active' });
    assert.equal(active.length, 4);

    // The search attributes make the release findable the way the Web UI filters.
    const description = await h.client.temporal.workflow.getHandle(first.releaseId).describe();
    assert.equal(description.searchAttributes.ReleaseStatus?.[0], 'succeeded');
    assert.equal(description.searchAttributes.ImageName?.[0], done.imageName);
    assert.match((await description.staticSummary()) ?? '', /^release release-v\d{8}-b\{release\} · local\/test · region-1, region-2, region-3, region-4$/);

    if (process.env.IMAGECAST_RECORD_HISTORY) {
      const history = await h.client.temporal.workflow.getHandle(first.releaseId).fetchHistory();
      // Binary protobuf: the SDK's JSON history helpers trip over its two protobufjs copies.
      await writeFile(
        process.env.IMAGECAST_RECORD_HISTORY,
        temporal.api.history.v1.History.encode(history).finish(),
      );
    }

    await h.publish('2');
    const second = await h.client.startRelease(h.job());
    assert.equal(second.releaseId, first.releaseId, 'one workflow id per image line and day');
    const next = await h.client.waitForRelease(second.releaseId, { pollIntervalMs: 200 });
    assert.equal(next.state, 'succeeded', next.error);
    assert.match(next.imageName, /-b2$/);
    assert.equal(next.deprecated.length, 4);
    for (const region of ['region-1', 'region-2', 'region-3', 'region-4']) {
      const old = h.imagesIn(region).find((i) => i.imageName === done.imageName)!;
      const replacement = next.images.find((i) => i.region === region)!;
      assert.equal(old.state, 'deprecated');
      assert.equal((old.replacement as { imageId: string }).imageId, replacement.imageId);
    }
    const deprecated = await h.catalog.listImages({ cloud: 'local', account: 'test', state: 'deprecated' });
    assert.deepEqual(
      deprecated.map((d) => d.imageName),
      Array(4).fill(done.imageName),
    );
  });

  it('stops after last_service and says why the later steps were skipped', async () => {
    await h.publish('3');
    const { releaseId } = await h.client.startRelease(
      h.job({ cloud_image_name: 'lastservice-v{date}-b{release}', last_service: 'create' }),
    );
    const status = await h.client.waitForRelease(releaseId, { pollIntervalMs: 200 });
    assert.equal(status.state, 'succeeded', status.error);
    const states = Object.fromEntries(status.steps.map((s) => [s.name, s.state]));
    assert.equal(states.create, 'succeeded');
    for (const step of ['test', 'raw_image_upload', 'replicate', 'publish', 'deprecate']) {
      assert.equal(states[step], 'skipped', step);
      assert.match(status.steps.find((s) => s.name === step)!.detail!, /last_service "create"/);
    }
    assert.equal(states.cleanup, 'succeeded');
    assert.equal(status.images.length, 1);
    const made = h.imagesIn('region-1').find((i) => i.imageName === status.imageName)!;
    assert.equal(made.visibility, 'private');
    assert.equal(h.imagesIn('region-2').filter((i) => i.imageName === status.imageName).length, 0);
  });

  it('fails fast on a checksum mismatch and leaves nothing behind', async () => {
    await h.publish('4', { corruptChecksum: true });
    const before = h.allCloudFiles();
    const { releaseId } = await h.client.startRelease(
      h.job({ cloud_image_name: 'mismatch-v{date}-b{release}' }),
    );
    const status = await h.client.waitForRelease(releaseId, { pollIntervalMs: 200 });
    assert.equal(status.state, 'failed');
    assert.match(status.error!, /checksum/i);
    assert.equal(status.steps.find((s) => s.name === 'upload')!.state, 'failed');
    const err = await h.client.temporal.workflow
      .getHandle(releaseId)
      .result()
      .catch((e: unknown) => e);
    assert.ok(err instanceof WorkflowFailedError);
    const cause = (err.cause as { cause?: unknown }).cause;
    assert.ok(cause instanceof ApplicationFailure);
    assert.equal(cause.type, 'ChecksumMismatch');
    assert.equal(cause.nonRetryable, true);
    // One attempt only: a mismatch is not retried.
    const history = await h.client.temporal.workflow.getHandle(releaseId).fetchHistory();
    const uploads = history.events!.filter(
      (e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'uploadImage',
    );
    assert.equal(uploads.length, 1);
    const started = history.events!.find(
      (e) => String(e.activityTaskStartedEventAttributes?.scheduledEventId) === String(uploads[0]!.eventId),
    );
    assert.equal(started?.activityTaskStartedEventAttributes?.attempt, 1, 'not retried');
    assert.deepEqual(h.allCloudFiles(), before, 'no staging, disk or image left');
    const rows = await h.catalog.listImages({ cloud: 'local', account: 'test' });
    assert.ok(rows.every((r) => !r.imageName.startsWith('mismatch-')));
  });

  it('refuses a second release of the same image line while the first runs', async () => {
    h.buildServer.setThrottle(2 * 1024 * 1024);
    try {
      await h.publish('5');
      const job = h.job({ cloud_image_name: 'twice-v{date}-b{release}' });
      const { releaseId } = await h.client.startRelease(job);
      await assert.rejects(h.client.startRelease(job), (error: unknown) => {
        assert.ok(error instanceof ReleaseAlreadyRunningError);
        assert.match(error.message, new RegExp(releaseId));
        return true;
      });
      await h.client.cancelRelease(releaseId);
      assert.equal((await h.client.waitForRelease(releaseId, { pollIntervalMs: 200 })).state, 'cancelled');
    } finally {
      h.buildServer.setThrottle(undefined);
    }
  });

  it('fails an invalid job started directly (as the Web UI does) with every problem named', async () => {
    const handle = await h.client.temporal.workflow.start('releaseImage', {
      workflowId: `invalid-${Date.now()}`,
      taskQueue: queueName(h.queuePrefix, 'workflows'),
      args: [{ cloud: 'local', image: 'x', conditions: [{ condition: '~=' }] }],
    });
    const err = await handle.result().catch((e: unknown) => e);
    assert.ok(err instanceof WorkflowFailedError);
    const cause = (err.cause as { cause?: unknown }).cause as ApplicationFailure;
    assert.equal(cause.type, 'InvalidJob');
    for (const path of ['$.cloud_image_name', '$.download_url', '$.image_description', '$.conditions[0]']) {
      assert.ok(cause.message.includes(path), `${path} in: ${cause.message}`);
    }
  });
});
