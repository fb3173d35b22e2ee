// A release whose replicate step meets a failure retries could not cure blocks: it keeps what
// it made and waits for `resume`, `resume --skip` or `abort`. Real dev server, PostgreSQL and
// the local cloud, whose regions can be closed to copies (a CLOSED file) and opened again.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { startReleaseHarness, type ReleaseHarness } from '../support/release-harness.js';
import { replayAndRecord } from '../support/replay-history.js';
import { DecisionRefusedError, type ReleaseStatus } from '../../client/sdk/index.js';

const REGIONS = ['region-1', 'region-2', 'region-3', 'region-4'];

describe('blocked releases on the local cloud', () => {
  let h: ReleaseHarness;
  before(async () => {
    h = await startReleaseHarness('blocked');
    await h.publish('1');
  });
  after(() => h.stop());

  const closedFile = (region: string) => join(h.localDataDir, 'test', region, 'CLOSED');
  const close = (region: string, reason = 'image quota reached') => {
    mkdirSync(join(h.localDataDir, 'test', region), { recursive: true });
    writeFileSync(closedFile(region), reason);
  };
  const open = (region: string) => rmSync(closedFile(region), { force: true });
  const imagesOf = (status: ReleaseStatus, region: string) => h.imagesIn(region).filter((i) => i.imageName === status.imageName);
  const step = (status: ReleaseStatus, name: string) => status.steps.find((s) => s.name === name)!;

  async function startBlocked(name: string, closed: string, overrides: Record<string, unknown> = {}) {
    close(closed);
    const { releaseId } = await h.client.startRelease(h.job({ cloud_image_name: `${name}-v{date}-b{release}`, ...overrides }));
    const status = await h.client.waitForRelease(releaseId, { pollIntervalMs: 200 });
    return { releaseId, status };
  }

  it('blocks when one of 4 regions refuses copies, keeping the 3 made; resume --skip finishes without it', async () => {
    try {
      const { releaseId, status } = await startBlocked('skipped', 'region-4');
      assert.equal(status.state, 'blocked', status.error);
      assert.equal(step(status, 'replicate').state, 'blocked');
      assert.match(step(status, 'replicate').detail!, /blocked: region-4 \(local region region-4 of test refuses copies: image quota reached\)/);
      assert.deepEqual(status.blocked?.regions.map((r) => r.region), ['region-4']);
      assert.ok(status.blocked?.resolve.includes(`imagecast job resume ${releaseId} --skip region-4`));
      assert.ok(status.blocked?.resolve.includes(`imagecast job abort ${releaseId}`));
      for (const region of REGIONS.slice(0, 3)) assert.equal(imagesOf(status, region).length, 1, `kept in ${region}`);
      assert.equal(imagesOf(status, 'region-4').length, 0);
      const description = await h.client.temporal.workflow.getHandle(releaseId).describe();
      assert.equal(description.searchAttributes.ReleaseStatus?.[0], 'blocked');

      await assert.rejects(h.client.resumeRelease(releaseId, { skip: ['region-2'] }), (error: unknown) => {
        assert.ok(error instanceof DecisionRefusedError, String(error));
        assert.match(error.message, /cannot skip region-2: not blocked \(blocked: region-4\)/);
        return true;
      });
      const outcome = await h.client.resumeRelease(releaseId, { skip: ['region-4'], by: 'alice' });
      assert.match(outcome.detail, /resumed by alice: nothing to retry, skipping region-4/);
      const done = await h.client.waitForRelease(releaseId, { pollIntervalMs: 200 });
      assert.equal(done.state, 'succeeded', done.error);
      assert.deepEqual(done.skippedRegions, ['region-4']);
      assert.match(step(done, 'replicate').detail!, /skipped region-4 \(resumed by alice/);
      assert.deepEqual(done.images.map((i) => i.region).sort(), REGIONS.slice(0, 3));
      for (const region of REGIONS.slice(0, 3)) assert.equal(imagesOf(done, region)[0]?.visibility, 'public');
      await replayAndRecord(h.client.temporal, releaseId, 'release-local-blocked-skip');
    } finally {
      open('region-4');
    }
  });

  it('resumes after the region is open again and copies to all 4', async () => {
    const { releaseId, status } = await startBlocked('cured', 'region-3');
    assert.equal(status.state, 'blocked', status.error);
    open('region-3');
    const outcome = await h.client.resumeRelease(releaseId, { by: 'bob' });
    assert.equal(outcome.state, 'running');
    const done = await h.client.waitForRelease(releaseId, { pollIntervalMs: 200 });
    assert.equal(done.state, 'succeeded', done.error);
    assert.equal(done.skippedRegions, undefined);
    assert.match(step(done, 'replicate').detail!, /region-3: .*\(resumed by bob: retrying region-3\)/);
    for (const region of REGIONS) assert.equal(imagesOf(done, region).length, 1, region);
    await replayAndRecord(h.client.temporal, releaseId, 'release-local-blocked-resume');
  });

  it('aborts: the saga removes what the release made in every region, and says who aborted', async () => {
    try {
      const { releaseId, status } = await startBlocked('aborted', 'region-2');
      assert.equal(status.state, 'blocked', status.error);
      assert.equal(imagesOf(status, 'region-3').length, 1);
      const outcome = await h.client.abortRelease(releaseId, { by: 'carol' });
      assert.equal(outcome.state, 'failed');
      const done = await h.client.waitForRelease(releaseId, { pollIntervalMs: 200 });
      assert.equal(done.state, 'failed');
      assert.match(done.error ?? '', /aborted by carol while blocked on region-2/);
      assert.equal(step(done, 'replicate').state, 'failed');
      for (const region of REGIONS) assert.deepEqual(imagesOf(done, region), [], `nothing left in ${region}`);
      await assert.rejects(h.client.resumeRelease(releaseId), /already ended \(failed\)/);
      await replayAndRecord(h.client.temporal, releaseId, 'release-local-blocked-abort');
    } finally {
      open('region-2');
    }
  });

  it('with on_failure: abort, fails and cleans up as before', async () => {
    try {
      const { status } = await startBlocked('mash', 'region-2', { on_failure: 'abort' });
      assert.equal(status.state, 'failed');
      assert.match(status.error ?? '', /region-2 of test refuses copies/);
      for (const region of REGIONS) assert.deepEqual(imagesOf(status, region), [], `nothing left in ${region}`);
    } finally {
      open('region-2');
    }
  });

  it('refuses decisions for a release that is not blocked, with the reason', async () => {
    const later = new Date(Date.now() + 3_600_000).toISOString();
    const { releaseId } = await h.client.startRelease(h.job({ cloud_image_name: 'later-v{date}-b{release}', utctime: later }));
    await h.client.waitForRelease(releaseId, { pollIntervalMs: 200, timeoutMs: 1000 }).catch(() => undefined);
    await assert.rejects(h.client.resumeRelease(releaseId), /refused resume: release .* is waiting, not blocked: resume applies only to a blocked release/);
    await assert.rejects(h.client.abortRelease(releaseId), /refused abort: release .* is waiting, not blocked/);
    await h.client.cancelRelease(releaseId);
  });

  it('blocks in publish when a region refuses it, keeping every image; resume --skip finishes with that one private', async () => {
    const refuse = join(h.localDataDir, 'test', 'region-2', 'CLOSED-PUBLISH');
    try {
      mkdirSync(dirname(refuse), { recursive: true });
      writeFileSync(refuse, 'public images blocked in this account');
      const { releaseId } = await h.client.startRelease(h.job({ cloud_image_name: 'pubblock-v{date}-b{release}' }));
      const status = await h.client.waitForRelease(releaseId, { pollIntervalMs: 200 });
      assert.equal(status.state, 'blocked', status.error);
      assert.equal(status.blocked?.step, 'publish');
      assert.deepEqual(status.blocked?.regions.map((r) => r.region), ['region-2']);
      assert.match(status.blocked!.regions[0]!.reason, /refuses publishing: public images blocked in this account/);
      for (const region of REGIONS) assert.equal(imagesOf(status, region).length, 1, `kept in ${region}`);
      await assert.rejects(h.client.resumeRelease(releaseId, { skip: ['region-3'] }), /cannot skip region-3: not blocked \(blocked: region-2\)/);
      await h.client.resumeRelease(releaseId, { skip: ['region-2'], by: 'bob' });
      const done = await h.client.waitForRelease(releaseId, { pollIntervalMs: 200 });
      assert.equal(done.state, 'succeeded', done.error);
      assert.deepEqual(done.skippedRegions, ['region-2']);
      assert.match(step(done, 'publish').detail!, /^public; skipped region-2 \(resumed by bob: nothing to retry, skipping region-2\)$/);
      assert.equal(imagesOf(done, 'region-2')[0]!.visibility, 'private', 'not published there');
      assert.equal(imagesOf(done, 'region-1')[0]!.visibility, 'public');
      const catalogued = (await h.catalog.listImages({ cloud: 'local', state: 'active' })).filter((i) => i.imageName === done.imageName);
      assert.deepEqual(
        catalogued.map((i) => `${i.region}:${i.visibility}`).sort(),
        REGIONS.map((r) => `${r}:${r === 'region-2' ? 'private' : 'public'}`),
        'the catalog calls the skipped region private',
      );
      await replayAndRecord(h.client.temporal, releaseId, 'release-local-blocked-publish');
    } finally {
      rmSync(refuse, { force: true });
    }
  });

  it('blocks in deprecate when a region refuses it; resume after it opens deprecates there too', async () => {
    const line = { cloud_image_name: 'depblock-v{date}-b{release}', additional_regions: ['region-2', 'region-3'] };
    const first = await h.client.startRelease(h.job(line));
    assert.equal((await h.client.waitForRelease(first.releaseId, { pollIntervalMs: 200 })).state, 'succeeded');
    await h.publish('9');
    const refuse = join(h.localDataDir, 'test', 'region-3', 'CLOSED-DEPRECATE');
    try {
      mkdirSync(dirname(refuse), { recursive: true });
      writeFileSync(refuse, 'deprecation API down');
      const { releaseId } = await h.client.startRelease(h.job(line));
      const status = await h.client.waitForRelease(releaseId, { pollIntervalMs: 200 });
      assert.equal(status.state, 'blocked', status.error);
      assert.equal(status.blocked?.step, 'deprecate');
      assert.deepEqual(status.blocked?.regions.map((r) => r.region), ['region-3']);
      rmSync(refuse);
      await h.client.resumeRelease(releaseId, { by: 'carol' });
      const done = await h.client.waitForRelease(releaseId, { pollIntervalMs: 200 });
      assert.equal(done.state, 'succeeded', done.error);
      assert.equal(done.deprecated.length, 3);
      assert.deepEqual(done.deprecated.map((d) => d.region).sort(), ['region-1', 'region-2', 'region-3']);
      assert.match(step(done, 'deprecate').detail!, /\(resumed by carol: retrying region-3\)$/);
    } finally {
      rmSync(refuse, { force: true });
    }
  });

  it('finishes without the blocked region when block_timeout passes and on_block_timeout is skip', async () => {
    try {
      // 60 s is the smallest block_timeout a job may ask for (the dev server does not skip time).
      const { releaseId, status } = await startBlocked('timeout', 'region-2', { block_timeout: 60, on_block_timeout: 'skip' });
      assert.equal(status.state, 'blocked', status.error);
      assert.equal(status.blocked?.then, 'skip');
      const done = await h.client.temporal.workflow.getHandle(releaseId).result();
      assert.equal(done.status.state, 'succeeded', done.status.error);
      assert.deepEqual(done.status.skippedRegions, ['region-2']);
      assert.match(step(done.status, 'replicate').detail!, /resumed by block_timeout \(60 s\)/);
    } finally {
      open('region-2');
    }
  });
});
