// Scheduled retirement on the real dev server: a Temporal Schedule runs deprecateImages
// against the local cloud and the catalog; the CLI drives schedules as a child process.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startReleaseHarness, type ReleaseHarness } from '../support/release-harness.js';
import { runCli } from '../support/cli-process.js';
import type { BuildWatchResult } from '../../client/sdk/index.js';
import { open } from 'node:fs/promises';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from '../support/stack.js';
import { randomBytes } from 'node:crypto';
import { Worker } from '@temporalio/worker';
import { REPLAY_OPTIONS } from '../support/replay-history.js';

const LINE = 'retire-v{date}-b{release}';

describe('scheduled deprecation', () => {
  let h: ReleaseHarness;
  before(async () => {
    h = await startReleaseHarness('schedules');
    // Three builds released without their own deprecate step: three active releases of the line.
    for (const build of ['1', '2', '3']) {
      await h.publish(build);
      const { releaseId } = await h.client.startRelease(h.job({ cloud_image_name: LINE, last_service: 'publish' }));
      const done = await h.client.waitForRelease(releaseId, { pollIntervalMs: 200 });
      assert.equal(done.state, 'succeeded', done.error);
    }
  });
  after(async () => h?.stop());

  const images = (state: 'active' | 'deprecated' | 'deleted') =>
    h.catalog.listImages({ cloud: 'local', account: 'test', imageLine: LINE, state });

  it('a dry run reports what it would retire and changes nothing; a real run deprecates all but the newest; a later one deletes', async () => {
    assert.equal((await images('active')).length, 12);
    const policy = { cloud: 'local', account: 'test', image_line: LINE, keep: 1 };
    const dry = await h.client.schedules.create({ ...policy, dry_run: true }, { every: '1d', scheduleId: 'deprecate-dry' });
    assert.equal(dry.every, '1d');
    const report = await h.client.schedules.trigger('deprecate-dry');
    assert.equal(report.dryRun, true);
    assert.equal(report.planned?.deprecate.length, 8, 'two older releases in four regions');
    assert.equal((await images('active')).length, 12, 'a dry run changes nothing');

    await h.client.schedules.create(policy, { every: '1d', scheduleId: 'deprecate-real' });
    const result = await h.client.schedules.trigger('deprecate-real');
    assert.equal(result.deprecated.length, 8);
    const active = await images('active');
    assert.equal(active.length, 4);
    assert.ok(active.every((i) => i.imageName.endsWith('-b3')), 'the newest release stays');
    const deprecated = await images('deprecated');
    assert.equal(deprecated.length, 8);
    assert.ok(deprecated.every((i) => i.replacementImageName?.endsWith('-b3')), 'replacements recorded in the catalog');
    assert.deepEqual((await h.client.schedules.trigger('deprecate-real')).deprecated, [], 'a second run finds nothing to do');
    // deprecateImages replays deterministically from a real run's history.
    const run = (await h.client.schedules.describe('deprecate-real')).lastRunId!;
    const history = await h.client.temporal.workflow.getHandle(run).fetchHistory();
    await Worker.runReplayHistory(REPLAY_OPTIONS, history, run);

    await h.client.schedules.create({ ...policy, delete_after_days: 0 }, { every: '1d', scheduleId: 'deprecate-delete' });
    assert.equal((await h.client.schedules.trigger('deprecate-delete')).deleted.length, 8);
    assert.equal((await images('deleted')).length, 8);
    for (const id of ['deprecate-dry', 'deprecate-real', 'deprecate-delete']) await h.client.schedules.delete(id);
  });

  it('utctime "always" becomes a schedule that releases each new build once, honouring conditions', async () => {
    const job = h.job({ cloud_image_name: 'always-v{date}-b{release}', utctime: 'always', last_service: 'create' });
    await assert.rejects(h.client.startRelease(job), /"always" releases every new build/);
    const watch = await h.client.schedules.watchBuilds(job as never, { every: '1h', scheduleId: 'watch-test' });
    assert.equal(watch.kind, 'watch');
    const first = await h.client.schedules.trigger<BuildWatchResult>('watch-test');
    assert.equal(first.released, true, first.reason);
    assert.match(first.imageName ?? '', /^always-v\d{8}-b3$/, 'the newest build');
    assert.equal(first.result?.status.state, 'succeeded');
    const watchRun = (await h.client.schedules.describe('watch-test')).lastRunId!;
    await Worker.runReplayHistory(REPLAY_OPTIONS, await h.client.temporal.workflow.getHandle(watchRun).fetchHistory(), watchRun);
    const again = await h.client.schedules.trigger<BuildWatchResult>('watch-test');
    assert.equal(again.released, false);
    assert.match(again.reason, /is released already/);
    // A new build with new content (same content would be the same checksum: nothing new).
    const disk = await open(h.diskPath, 'r+');
    await disk.write(randomBytes(4096), 0, 4096, 0);
    await disk.close();
    await h.publish('4');
    const next = await h.client.schedules.trigger<BuildWatchResult>('watch-test');
    assert.match(next.imageName ?? '', /-b4$/);
    const released = await h.client.temporal.workflow.getHandle(next.releaseId!).describe();
    assert.match((await released.staticSummary()) ?? '', /^release \S+-b4 · local\/test · region-1, .* \(new build seen by /);
    await h.client.schedules.delete('watch-test');

    const strict = h.job({
      cloud_image_name: 'strict-v{date}-b{release}',
      utctime: 'always',
      conditions: [{ package_name: 'kernel-default', version: '99.0', condition: '>=' }],
    });
    await h.client.schedules.watchBuilds(strict as never, { every: '1h', scheduleId: 'watch-strict' });
    const none = await h.client.schedules.trigger<BuildWatchResult>('watch-strict');
    assert.equal(none.released, false);
    assert.match(none.reason, /no build to release/);
    await h.client.schedules.delete('watch-strict');
  });

  it('imagecast schedule creates, lists, pauses, resumes, triggers and deletes a schedule', async () => {
    const env = { ...process.env, IMAGECAST_TEMPORAL_ADDRESS: h.temporalAddress, IMAGECAST_QUEUE_PREFIX: h.queuePrefix };
    const run = (...args: string[]) => runCli(['schedule', ...args], env);
    const created = await run('deprecate', '--cloud', 'local', '--account', 'test', '--image-line', LINE, '--keep', '2', '--every', '12h', '--dry-run');
    assert.equal(created.status, 0, created.stderr);
    const id = 'deprecate-local-test-retire-vdate-brelease';
    assert.match(created.stdout, new RegExp(`created ${id}  every 12h  local/test ${LINE.replace(/[{}]/g, '\\$&')}  keep 2, dry run  next `));
    const listed = JSON.parse((await run('list', '--json')).stdout) as Array<{ scheduleId: string; policy: { keep: number } }>;
    assert.deepEqual(listed.map((s) => [s.scheduleId, s.policy.keep]), [[id, 2]]);
    assert.equal((await run('pause', id)).status, 0);
    assert.match((await run('list')).stdout, /paused/);
    assert.equal((await run('resume', id)).status, 0);
    const triggered = await run('trigger', id, '--json');
    assert.equal(triggered.status, 0, triggered.stderr);
    assert.equal(JSON.parse(triggered.stdout).dryRun, true);
    assert.equal((await run('delete', id)).status, 0);
    const gone = await run('pause', id);
    assert.equal(gone.status, 2);
    assert.match(gone.stderr, /no schedule deprecate-local-test-retire-vdate-brelease/);
    // `job add` of a utctime "always" job makes its build watch.
    const jobFile = join(tempDir('schedules-cli'), 'always.json');
    writeFileSync(jobFile, JSON.stringify(h.job({ cloud_image_name: 'cli-always-v{date}-b{release}', utctime: 'always' })));
    const added = await runCli(['job', 'add', 'local', jobFile, '--poll-every', '6h'], env);
    assert.equal(added.status, 0, added.stderr);
    assert.match(added.stdout, /utctime "always": schedule watch-local-test-cli-always-vdate-brelease polls .* every 6h/);
    assert.match((await run('list')).stdout, /watch-local-test-cli-always-vdate-brelease  every 6h  releases new builds of cli-always-v\{date\}-b\{release\}/);
    assert.equal((await run('delete', 'watch-local-test-cli-always-vdate-brelease')).status, 0);
    const bad = await run('deprecate', '--cloud', 'local', '--account', 'test', '--image-line', LINE, '--keep', '0');
    assert.equal(bad.status, 2);
    assert.match(bad.stderr, /\$\.keep: /);
  });
});
