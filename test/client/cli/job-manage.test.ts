// `imagecast job watch|list|cancel|retry|log`: the compiled CLI as a child process against the
// real dev server, PostgreSQL and the local cloud.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startReleaseHarness, type ReleaseHarness } from '../../support/release-harness.js';
import { runCli } from '../../support/cli-process.js';
import { writeFileSync } from 'node:fs';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { tempDir } from '../../support/stack.js';

describe('imagecast job watch, list, cancel, retry, log', () => {
  let h: ReleaseHarness;
  let env: NodeJS.ProcessEnv;
  before(async () => {
    // A disk big enough that the upload takes a few seconds: there is time to cancel it.
    h = await startReleaseHarness('job-manage', { diskMiB: 512 });
    env = { ...process.env, IMAGECAST_TEMPORAL_ADDRESS: h.temporalAddress, IMAGECAST_QUEUE_PREFIX: h.queuePrefix };
  });
  after(async () => h?.stop());

  it('watches a release to its end, finds it with list, and shows its activity attempts', async () => {
    await h.publish('1');
    const { releaseId } = await h.client.startRelease(h.job({ cloud_image_name: 'watched-v{date}-b{release}', last_service: 'create' }));
    const watched = await runCli(['job', 'watch', releaseId], env);
    assert.equal(watched.status, 0, watched.stderr);
    assert.match(watched.stdout, new RegExp(`${releaseId}  succeeded  watched-v\\d{8}-b1`));
    assert.match(watched.stdout, /create\s+succeeded/);

    const listed = await runCli(['job', 'list', '--cloud', 'local', '--status', 'succeeded', '--image', 'watched-', '--since', '1h', '--json'], env);
    assert.equal(listed.status, 0, listed.stderr);
    const found = JSON.parse(listed.stdout) as Array<{ releaseId: string; state: string; imageName: string }>;
    // Visibility is eventually consistent: the list may lag the close by a moment.
    if (found.length === 0) await new Promise((r) => setTimeout(r, 1500));
    const again = found.length ? found : (JSON.parse((await runCli(['job', 'list', '--image', 'watched-', '--json'], env)).stdout) as typeof found);
    assert.deepEqual(again.map((r) => [r.releaseId, r.state]), [[releaseId, 'succeeded']]);
    // The same through a config file instead of the environment.
    const configFile = join(tempDir('job-manage-config'), 'config.json');
    writeFileSync(configFile, JSON.stringify({ address: h.temporalAddress, queuePrefix: h.queuePrefix }));
    const { IMAGECAST_TEMPORAL_ADDRESS: _a, IMAGECAST_QUEUE_PREFIX: _q, ...bare } = env;
    const viaFile = await runCli(['job', 'list', '--image', 'watched-', '--json'], { ...bare, IMAGECAST_CONFIG: configFile });
    assert.equal(viaFile.status, 0, viaFile.stderr);
    assert.equal((JSON.parse(viaFile.stdout) as unknown[]).length, 1);
    const none = await runCli(['job', 'list', '--status', 'failed', '--image', 'watched-'], env);
    assert.equal(none.stdout.trim(), 'no releases');

    const shown = await runCli(['job', 'status', releaseId], env);
    assert.equal(shown.status, 0, shown.stderr);
    assert.match(shown.stdout, /upload\s+succeeded\s+[\d.]+s\s+1×\s+\d+ bytes verified/);
    const shownJson = JSON.parse((await runCli(['job', 'status', releaseId, '--json'], env)).stdout) as { steps: Array<{ name: string; attempts: number }> };
    assert.equal(shownJson.steps.find((s) => s.name === 'create')?.attempts, 1);

    const log = await runCli(['job', 'log', releaseId], env);
    assert.equal(log.status, 0, log.stderr);
    for (const activity of ['planRelease', 'resolveSource', 'uploadImage', 'createImage'])
      assert.match(log.stdout, new RegExp(`${activity}\\s+attempt 1\\s+completed`));
    const bad = await runCli(['job', 'list', '--since', 'yesterday-ish'], env);
    assert.equal(bad.status, 2);
    assert.match(bad.stderr, /option '--since <when>' argument 'yesterday-ish' is invalid/);
  });

  it('the example CI script (examples/ci-release.mjs) releases a job and exits 0', async () => {
    const script = fileURLToPath(new URL('../../../../examples/ci-release.mjs', import.meta.url));
    const jobFile = join(tempDir('ci-example'), 'job.json');
    writeFileSync(jobFile, JSON.stringify(h.job({ cloud_image_name: 'ci-example-v{date}-b{release}', last_service: 'create' })));
    const ran = await new Promise<{ status: number | null; out: string }>((resolve) => {
      const child = spawn(process.execPath, [script, jobFile], { env });
      let out = '';
      child.stdout.on('data', (d: Buffer) => (out += d));
      child.stderr.on('data', (d: Buffer) => (out += d));
      child.on('close', (status) => resolve({ status, out }));
    });
    assert.equal(ran.status, 0, ran.out);
    assert.match(ran.out, /release release-local-test-ci-example-v\d{8}-b_release_ started/);
    assert.match(ran.out, /region-1: img-/);
  });

  it('cancels a release mid-upload (cleanup runs), and retries it with the build it had chosen', async () => {
    await h.publish('2');
    const job = h.job({ cloud_image_name: 'retried-v{date}-b{release}' });
    const { releaseId } = await h.client.startRelease(job);
    for (let i = 0; (await h.client.getRelease(releaseId)).currentStep !== 'upload'; i++) {
      assert.ok(i < 300, 'the release reached upload');
      await new Promise((r) => setTimeout(r, 50));
    }
    const cancelled = await runCli(['job', 'cancel', releaseId, '--wait', '--json'], env);
    assert.equal(cancelled.status, 0, cancelled.stderr);
    assert.equal(JSON.parse(cancelled.stdout).state, 'cancelled');
    const retriedImages = () => h.imagesIn('region-1').filter((i) => String(i.imageName ?? i.name ?? JSON.stringify(i)).includes('retried-'));
    assert.deepEqual(retriedImages(), [], 'the cancelled release left no image');

    // A newer build appears; the retry still releases the one the cancelled run chose.
    await h.publish('3');
    const retried = await runCli(['job', 'retry', releaseId, '--wait', '--json'], env);
    assert.equal(retried.status, 0, retried.stderr);
    const status = JSON.parse(retried.stdout.trim().split('\n').at(-1)!) as { state: string; imageName: string; steps: Array<{ name: string; detail?: string }> };
    assert.equal(status.state, 'succeeded');
    assert.match(status.imageName, /-b2$/);
    assert.match(status.steps[0]!.detail ?? '', /chosen by the failed run /);
    assert.equal(retriedImages().length, 1, 'the retry made its image');
    const twice = await runCli(['job', 'retry', releaseId], env);
    assert.equal(twice.status, 1);
    assert.match(twice.stderr, /already ended \(succeeded\): nothing to retry/);
  });
});
