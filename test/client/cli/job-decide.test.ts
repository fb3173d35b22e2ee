// `imagecast job resume|abort`: the compiled CLI as a child process on a blocked release
// (a local region closed to copies), against the real dev server, PostgreSQL and local cloud.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startReleaseHarness, type ReleaseHarness } from '../../support/release-harness.js';
import { runCli } from '../../support/cli-process.js';

describe('imagecast job resume, abort', () => {
  let h: ReleaseHarness;
  let env: NodeJS.ProcessEnv;
  before(async () => {
    h = await startReleaseHarness('job-decide');
    env = { ...process.env, IMAGECAST_TEMPORAL_ADDRESS: h.temporalAddress, IMAGECAST_QUEUE_PREFIX: h.queuePrefix };
    await h.publish('1');
  });
  after(async () => h?.stop());

  const closed = (region: string) => join(h.localDataDir, 'test', region, 'CLOSED');

  async function blocked(name: string, region: string): Promise<string> {
    mkdirSync(join(h.localDataDir, 'test', region), { recursive: true });
    writeFileSync(closed(region), 'opt-in region not enabled');
    const { releaseId } = await h.client.startRelease(h.job({ cloud_image_name: `${name}-v{date}-b{release}` }));
    const status = await h.client.waitForRelease(releaseId, { pollIntervalMs: 200 });
    assert.equal(status.state, 'blocked', status.error);
    return releaseId;
  }

  it('shows a blocked release, refuses a skip that does not fit (exit 1), and resumes with --skip (exit 0)', async () => {
    try {
      const id = await blocked('cli-skip', 'region-3');
      const shown = await runCli(['job', 'status', id], env);
      assert.equal(shown.status, 0, shown.stderr);
      assert.match(shown.stdout, new RegExp(`${id}  blocked`));
      assert.match(shown.stdout, /replicate\s+blocked/);
      assert.match(shown.stdout, /region-3: local region region-3 of test refuses copies: opt-in region not enabled/);
      assert.match(shown.stdout, new RegExp(`imagecast job resume ${id} --skip region-3`));

      const refused = await runCli(['job', 'resume', id, '--skip', 'region-1', '--json'], env);
      assert.equal(refused.status, 1);
      assert.match(refused.stderr, /cannot skip region-1: not blocked/);
      const error = (JSON.parse(refused.stdout) as { error: { code: string; reason: string } }).error;
      assert.equal(error.code, 'decision_refused');

      const resumed = await runCli(['job', 'resume', id, '--skip', 'region-3', '--json'], env);
      assert.equal(resumed.status, 0, resumed.stderr);
      const outcome = JSON.parse(resumed.stdout) as { releaseId: string; decision: string; state: string; detail: string };
      assert.equal(outcome.releaseId, id);
      assert.equal(outcome.decision, 'skip');
      assert.match(outcome.detail, /resumed by .+: nothing to retry, skipping region-3/);
      const done = await h.client.waitForRelease(id, { pollIntervalMs: 200 });
      assert.equal(done.state, 'succeeded', done.error);
      assert.deepEqual(done.skippedRegions, ['region-3']);

      const late = await runCli(['job', 'abort', id], env);
      assert.equal(late.status, 1);
      assert.match(late.stderr, /already ended \(succeeded\)/);
    } finally {
      rmSync(closed('region-3'), { force: true });
    }
  });

  it('aborts a blocked release (exit 0, text) and nothing of it is left', async () => {
    try {
      const id = await blocked('cli-abort', 'region-2');
      const aborted = await runCli(['job', 'abort', id], env);
      assert.equal(aborted.status, 0, aborted.stderr);
      assert.match(aborted.stdout, new RegExp(`${id}: failed: aborted by .+ while blocked on region-2`));
      const done = await h.client.waitForRelease(id, { pollIntervalMs: 200 });
      assert.equal(done.state, 'failed');
      for (const region of ['region-1', 'region-2', 'region-3', 'region-4'])
        assert.deepEqual(h.imagesIn(region).filter((i) => i.imageName === done.imageName), [], region);
      const unknown = await runCli(['job', 'resume', 'no-such-release', '--json'], env);
      assert.equal(unknown.status, 1);
    } finally {
      rmSync(closed('region-2'), { force: true });
    }
  });
});
