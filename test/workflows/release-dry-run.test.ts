/**
 * `dry_run: true` makes nothing: it resolves the build, runs the release's whole preflight
 * (the local cloud's DISABLED and BLOCK-PUBLIC faults, names in every region) and reports
 * what the release would do. And a real release checks names before its upload.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { WorkflowFailedError } from '@temporalio/client';
import proto from '@temporalio/proto';
import { freePort } from '../../infra/devstack/free-port.js';
import { startReleaseHarness, type ReleaseHarness } from '../support/release-harness.js';

const { temporal } = proto;

describe('dry runs and the name preflight (local cloud)', () => {
  let h: ReleaseHarness;
  before(async () => {
    h = await startReleaseHarness('dryrun');
  });
  after(() => h.stop());

  it('a dry run uploads, creates and deprecates nothing, and reports what the release would do', async () => {
    await h.publish('1');
    const first = await h.client.waitForRelease((await h.client.startRelease(h.job())).releaseId, { pollIntervalMs: 200 });
    assert.equal(first.state, 'succeeded', first.error);
    await h.publish('2');
    const filesBefore = h.allCloudFiles().sort();
    const catalogBefore = await h.catalog.listImages({ cloud: 'local', account: 'test' });

    const { releaseId } = await h.client.startRelease(h.job({ dry_run: true, notify: true }));
    const dry = await h.client.waitForRelease(releaseId, { pollIntervalMs: 200 });
    assert.equal(dry.state, 'succeeded', dry.error);
    const report = dry.dryRun;
    assert.ok(report, 'the status carries the dry-run report');
    assert.match(report.imageName, /^dryrun-v\d{8}-b2$/);
    assert.match(report.build.url, /test-image.*1\.0\.0-Build2/);
    assert.match(report.build.checksum, /^sha256:[0-9a-f]{64}$/);
    assert.equal(report.homeRegion, 'region-1');
    assert.deepEqual(report.replicaRegions, ['region-2', 'region-3', 'region-4']);
    assert.equal(report.sharing, 'public');
    assert.deepEqual(report.problems, []);
    // It would retire the first release's four images, one per region.
    assert.deepEqual(
      report.wouldDeprecate.map((i) => i.imageId).sort(),
      first.images.map((i) => i.imageId).sort(),
    );
    assert.deepEqual(
      dry.steps.map((s) => `${s.name}:${s.state}`),
      ['download:succeeded', ...['upload', 'create', 'test', 'raw_image_upload', 'replicate', 'publish', 'deprecate', 'cleanup'].map((s) => `${s}:skipped`)],
    );
    assert.match(dry.steps.find((s) => s.name === 'replicate')!.detail!, /would copy to region-2, region-3, region-4/);
    assert.match(dry.steps.find((s) => s.name === 'deprecate')!.detail!, /would deprecate img-/);
    // Nothing was made, shared or retired, and nobody was notified.
    assert.deepEqual(h.allCloudFiles().sort(), filesBefore);
    assert.deepEqual(await h.catalog.listImages({ cloud: 'local', account: 'test' }), catalogBefore);
    for (const image of first.images) assert.equal(h.imagesIn(image.region).find((i) => i.imageId === image.imageId)?.state, 'available');
    assert.equal(dry.notification, undefined);
    const description = await h.client.temporal.workflow.getHandle(releaseId).describe();
    assert.match((await description.staticSummary()) ?? '', /^dry run of release dryrun-v\d{8}-b\{release\} · local\/test · /);
    // Never an upload or create activity in its history.
    await recordHistory(h, releaseId, 'release-local-dry-run');
    const types = await activityTypes(h, releaseId);
    assert.ok(!types.includes('uploadImage') && !types.includes('createImage'), types.join(', '));
  });

  it('a dry run whose image name is taken fails, naming the region, and makes nothing', async () => {
    await h.publish('3');
    const job = h.job({ cloud_image_name: 'dryrun-fixed-name', additional_regions: [] });
    const real = await h.client.waitForRelease((await h.client.startRelease(job)).releaseId, { pollIntervalMs: 200 });
    assert.equal(real.state, 'succeeded', real.error);
    const filesBefore = h.allCloudFiles().sort();
    const { releaseId } = await h.client.startRelease({ ...job, dry_run: true, additional_regions: ['region-2'] });
    const dry = await h.client.waitForRelease(releaseId, { pollIntervalMs: 200 });
    assert.equal(dry.state, 'failed');
    assert.match(
      dry.error!,
      /dry run: the release would fail: local account test, region region-1: \[image-name\] an image named "dryrun-fixed-name" already exists \(img-/,
    );
    assert.doesNotMatch(dry.error!, /region-2/);
    assert.deepEqual(dry.dryRun?.problems.length, 1);
    assert.deepEqual(h.allCloudFiles().sort(), filesBefore);
  });

  it('a dry run runs the whole preflight: a disabled region and blocked public images are both reported, and nothing is made', async () => {
    await h.publish('5');
    const fault = (region: string, file: string, reason: string) => {
      mkdirSync(join(h.localDataDir, 'test', region), { recursive: true });
      writeFileSync(join(h.localDataDir, 'test', region, file), reason);
      return () => rmSync(join(h.localDataDir, 'test', region, file), { force: true });
    };
    const reopen = [
      fault('region-2', 'DISABLED', 'opt-in region not enabled'),
      fault('region-3', 'BLOCK-PUBLIC', 'block public access is on'),
    ];
    try {
      const filesBefore = h.allCloudFiles().sort();
      const catalogBefore = await h.catalog.listImages({ cloud: 'local', account: 'test' });
      const job = h.job({
        cloud_image_name: 'dryrun-preflight-v{date}-b{release}',
        additional_regions: ['region-2', 'region-3'],
        share_with: 'all',
        dry_run: true,
      });
      const { releaseId } = await h.client.startRelease(job);
      await assert.rejects(h.client.temporal.workflow.getHandle(releaseId).result(), (error: unknown) => {
        assert.ok(error instanceof WorkflowFailedError);
        const cause = error.cause as { type?: string; nonRetryable?: boolean; details?: unknown[] };
        assert.equal(cause.type, 'DryRunFoundProblems', 'fails as a dry run, so CI can gate on it');
        assert.equal(cause.nonRetryable, true);
        const { problems } = cause.details?.[0] as { problems: Array<{ region: string; check: string }> };
        assert.deepEqual(problems.map((p) => `${p.region}:${p.check}`).sort(), [
          'region-2:region-enabled',
          'region-3:public-sharing',
        ]);
        return true;
      });
      const dry = await h.client.getRelease(releaseId);
      assert.equal(dry.state, 'failed');
      assert.match(dry.error!, /dry run: the release would fail: /);
      assert.match(
        dry.error!,
        /local account test, region region-2: \[region-enabled\] region region-2 is not enabled for the account: opt-in region not enabled\. Fix: remove \S+region-2\/DISABLED/,
      );
      assert.match(
        dry.error!,
        /local account test, region region-3: \[public-sharing\] public images are blocked: block public access is on\. Fix: remove \S+region-3\/BLOCK-PUBLIC/,
      );
      assert.match(dry.error!, /\(nothing was made\)$/);
      const report = dry.dryRun!;
      assert.equal(report.problems.length, 2, report.problems.join('\n'));
      assert.deepEqual(report.preflight?.map((p) => `${p.account}/${p.region}:${p.check}`).sort(), [
        'test/region-2:region-enabled',
        'test/region-3:public-sharing',
      ]);
      // The rest of the report is still there: what the release would have done.
      assert.deepEqual(report.replicaRegions, ['region-2', 'region-3']);
      assert.match(dry.steps.find((s) => s.name === 'publish')!.detail!, /^dry run: would publish/);
      // Nothing was made: no file in the cloud, no catalog row, no upload or create.
      assert.deepEqual(h.allCloudFiles().sort(), filesBefore);
      assert.deepEqual(await h.catalog.listImages({ cloud: 'local', account: 'test' }), catalogBefore);
      const types = await activityTypes(h, releaseId);
      assert.ok(types.includes('preflight'), types.join(', '));
      assert.ok(!types.includes('uploadImage') && !types.includes('createImage'), types.join(', '));
      await recordHistory(h, releaseId, 'release-local-dry-run-preflight');
    } finally {
      reopen.forEach((open) => open());
    }
  });

  it("use_build_time names the image with the build's day (the file's Last-Modified), not the release's", async () => {
    const { fileName } = await h.publish('7');
    const builtAt = new Date('2025-03-04T23:30:00Z');
    await utimes(join(h.buildRoot, fileName), builtAt, builtAt);
    const job = h.job({ cloud_image_name: 'built-v{date}-b{release}', use_build_time: true, dry_run: true });
    const dry = await h.client.waitForRelease((await h.client.startRelease(job)).releaseId, { pollIntervalMs: 200 });
    assert.equal(dry.state, 'succeeded', dry.error);
    assert.equal(dry.imageName, 'built-v20250304-b7');
    // Without it, the release's own (UTC) day.
    const { use_build_time: _u, ...today } = job;
    const plain = await h.client.waitForRelease((await h.client.startRelease({ ...today, cloud_image_name: 'today-v{date}-b{release}' })).releaseId, { pollIntervalMs: 200 });
    assert.equal(plain.imageName, `today-v${new Date().toISOString().slice(0, 10).replace(/-/g, '')}-b7`);
  });

  it('a real release whose name is taken in a replica region fails before it uploads anything', async () => {
    await h.publish('4');
    const name = 'dryrun-clash-in-replica';
    const first = await h.client.waitForRelease(
      (await h.client.startRelease(h.job({ cloud_image_name: name, region: 'region-3', additional_regions: [] }))).releaseId,
      { pollIntervalMs: 200 },
    );
    assert.equal(first.state, 'succeeded', first.error);
    const filesBefore = h.allCloudFiles().sort();
    const { releaseId } = await h.client.startRelease(
      h.job({ cloud_image_name: name, region: 'region-1', additional_regions: ['region-2', 'region-3'], image: 'test-image' }),
    );
    await assert.rejects(h.client.temporal.workflow.getHandle(releaseId).result(), WorkflowFailedError);
    const status = await h.client.getRelease(releaseId);
    assert.equal(status.state, 'failed');
    assert.match(status.error!, /preflight found 1 problem; nothing was uploaded/);
    assert.match(status.error!, new RegExp(`local account test, region region-3: \\[image-name\\] an image named "${name}" already exists \\(img-[0-9a-f]+\\)`));
    assert.equal(status.steps.find((s) => s.name === 'upload')!.state, 'failed');
    // A failed release keeps no step "pending": the rest were not run.
    assert.deepEqual(status.steps.filter((s) => s.state === 'pending'), []);
    assert.equal(status.steps.find((s) => s.name === 'cleanup')!.detail, 'not run: the release failed');
    assert.deepEqual(h.allCloudFiles().sort(), filesBefore, 'no disk was uploaded to region-1');
    const types = await activityTypes(h, releaseId);
    assert.ok(types.includes('preflight') && !types.includes('uploadImage'), types.join(', '));
  });

  it('shows the retried failures of a step while it retries (attempts and the last error)', async () => {
    // A build service nobody listens on: the download step's activity fails and is retried.
    const closedPort = await freePort();
    const { releaseId } = await h.client.startRelease(
      h.job({ download_url: `http://127.0.0.1:${closedPort}/`, cloud_image_name: 'dryrun-unreachable-{date}' }),
    );
    try {
      let download;
      for (let i = 0; i < 120; i++) {
        const status = await h.client.getRelease(releaseId).catch(() => undefined);
        download = status?.steps.find((s) => s.name === 'download');
        if ((download?.failedAttempts ?? 0) >= 2) break;
        await new Promise((resolve) => setTimeout(resolve, 250));
      }
      assert.ok((download?.failedAttempts ?? 0) >= 2, `two failed attempts reported: ${JSON.stringify(download)}`);
      assert.match(download!.lastFailure!, /^resolveSource attempt [2-9] of 10 failed: .*ECONNREFUSED/);
    } finally {
      await h.client.cancelRelease(releaseId);
      await h.client.temporal.workflow.getHandle(releaseId).result().catch(() => undefined);
    }
  });
});

/** IMAGECAST_RECORD_HISTORY_DIR=test/fixtures/histories records these paths for the replay test. */
async function recordHistory(h: ReleaseHarness, releaseId: string, name: string): Promise<void> {
  const dir = process.env.IMAGECAST_RECORD_HISTORY_DIR;
  if (!dir) return;
  const history = await h.client.temporal.workflow.getHandle(releaseId).fetchHistory();
  await writeFile(join(dir, `${name}.binpb`), temporal.api.history.v1.History.encode(history).finish());
  await writeFile(join(dir, `${name}.workflow-id`), `${releaseId}\n`);
}

async function activityTypes(h: ReleaseHarness, releaseId: string): Promise<string[]> {
  const history = await h.client.temporal.workflow.getHandle(releaseId).fetchHistory();
  return (history.events ?? []).flatMap((e) => {
    const name = e.activityTaskScheduledEventAttributes?.activityType?.name;
    return name ? [name] : [];
  });
}
