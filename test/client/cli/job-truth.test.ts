// The CLI tells the truth about releases (issue 11): a finished release cannot be cancelled,
// retries show their live attempt and failure, a queue without a worker is named, a waiting
// release says until when, `job list` is newest first and refuses bad option values, and
// --json errors are JSON on stdout. The compiled CLI against the real dev server and workers.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startReleaseHarness, type ReleaseHarness } from '../../support/release-harness.js';
import { runCli } from '../../support/cli-process.js';
import { tempDir, uniqueQueuePrefix } from '../../support/stack.js';
import { freePort } from '../../../infra/devstack/free-port.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('the CLI tells the truth about releases', () => {
  let h: ReleaseHarness;
  let env: NodeJS.ProcessEnv;
  const jobFile = (job: Record<string, unknown>) => {
    const file = join(tempDir('job-truth-job'), 'job.json');
    writeFileSync(file, JSON.stringify(job));
    return file;
  };
  const terminate = (id: string) => h.client.temporal.workflow.getHandle(id).terminate('test over').catch(() => undefined);

  before(async () => {
    h = await startReleaseHarness('job-truth');
    env = { ...process.env, IMAGECAST_TEMPORAL_ADDRESS: h.temporalAddress, IMAGECAST_QUEUE_PREFIX: h.queuePrefix };
    await h.publish('1');
  });
  after(async () => h?.stop());

  it('cancel of a finished release says it already ended, with its final state, and exits 1; an unknown id says so', async () => {
    const { releaseId } = await h.client.startRelease(h.job({ cloud_image_name: 'finished-v{date}-b{release}', last_service: 'download' }));
    assert.equal((await h.client.waitForRelease(releaseId)).state, 'succeeded');
    const cancelled = await runCli(['job', 'cancel', releaseId], env);
    assert.equal(cancelled.status, 1, cancelled.stdout);
    assert.match(cancelled.stderr, new RegExp(`release ${releaseId} already ended \\(succeeded\\): nothing to cancel`));
    assert.doesNotMatch(cancelled.stdout, /cancel requested/);

    const asJson = await runCli(['job', 'cancel', releaseId, '--json'], env);
    assert.equal(asJson.status, 1);
    const { error } = JSON.parse(asJson.stdout) as { error: Record<string, unknown> };
    assert.deepEqual(
      { code: error.code, exitCode: error.exitCode, releaseId: error.releaseId, releaseState: error.releaseState, workflowStatus: error.workflowStatus },
      { code: 'already_ended', exitCode: 1, releaseId, releaseState: 'succeeded', workflowStatus: 'COMPLETED' },
    );

    for (const command of ['cancel', 'retry', 'status', 'log', 'watch']) {
      const unknown = await runCli(['job', command, 'release-that-never-was', '--json'], env);
      assert.equal(unknown.status, 1, `${command}: ${unknown.stderr}`);
      assert.match(unknown.stderr, /no release release-that-never-was in namespace "default"/, command);
      assert.equal((JSON.parse(unknown.stdout) as { error: { code: string } }).error.code, 'not_found', command);
    }
    const retried = await runCli(['job', 'retry', releaseId, '--json'], env);
    assert.equal(retried.status, 1);
    assert.equal((JSON.parse(retried.stdout) as { error: { code: string } }).error.code, 'already_ended');
  });

  it('status, log and watch show the live attempt and the last failure of a download that keeps failing', async () => {
    const closed = await freePort();
    const { releaseId } = await h.client.startRelease(
      h.job({ cloud_image_name: 'unreachable-v{date}-b{release}', download_url: `http://127.0.0.1:${closed}/builds/` }),
    );
    try {
      for (let i = 0; ; i++) {
        const pending = await h.client.runningActivities(releaseId);
        if (pending.some((p) => p.attempt >= 2 && p.lastFailure)) break;
        assert.ok(i < 150, `a second attempt within 30 s: ${JSON.stringify(pending)}`);
        await sleep(200);
      }
      const status = await runCli(['job', 'status', releaseId], env);
      assert.equal(status.status, 0, status.stderr);
      assert.match(status.stdout, /^ {2}download +running +[2-9]×/m);
      assert.match(status.stdout, /resolveSource attempt [2-9]\/10, last failure: .*ECONNREFUSED/);
      const statusJson = JSON.parse((await runCli(['job', 'status', releaseId, '--json'], env)).stdout) as {
        steps: Array<{ name: string; attempts: number }>;
        pendingActivities: Array<{ activity: string; attempt: number; maximumAttempts: number; lastFailure: string }>;
      };
      assert.ok(statusJson.steps.find((s) => s.name === 'download')!.attempts >= 2);
      const pending = statusJson.pendingActivities.find((p) => p.activity === 'resolveSource')!;
      assert.equal(pending.maximumAttempts, 10);
      assert.match(pending.lastFailure, /ECONNREFUSED/);

      const log = await runCli(['job', 'log', releaseId], env);
      assert.equal(log.status, 0, log.stderr);
      assert.match(log.stdout, /resolveSource +attempt [2-9]\/10 +(retrying|running)/);
      assert.match(log.stdout, /attempt [1-8] failed: .*ECONNREFUSED/);
      assert.doesNotMatch(log.stdout, /resolveSource +attempt 1 +running/);

      const watched = await runCli(['job', 'watch', releaseId, '--timeout', '5s'], env);
      assert.equal(watched.status, 3, 'exit code 3: --timeout reached');
      assert.match(watched.stdout, /resolveSource: attempt [2-9]\/10, last failure: .*ECONNREFUSED/);
      assert.match(watched.stderr, /gave up waiting for release .* after 5s/);
    } finally {
      await terminate(releaseId);
    }
  });

  it('with no worker on the queue, add --wait says so with the command to start one and times out; status falls back to describe', async () => {
    const prefix = uniqueQueuePrefix('no-worker');
    const noWorker = { ...env, IMAGECAST_QUEUE_PREFIX: prefix };
    const file = jobFile(h.job({ cloud_image_name: 'no-worker-v{date}-b{release}' }));
    const added = await runCli(['job', 'add', 'local', file, '--wait', '--timeout', '4s'], noWorker);
    const releaseId = /started (\S+)/.exec(added.stdout)?.[1];
    assert.ok(releaseId, added.stdout + added.stderr);
    try {
      assert.equal(added.status, 3, added.stderr);
      assert.match(added.stderr, new RegExp(`no worker polls the workflow task queue ${prefix}workflows`));
      assert.match(added.stderr, new RegExp(`start one: npm run worker -- --queues workflows --queue-prefix ${prefix}`));

      const status = await runCli(['job', 'status', releaseId], noWorker);
      assert.equal(status.status, 0, status.stderr);
      assert.doesNotMatch(status.stdout + status.stderr, /^.*Failed to query Workflow$/m);
      assert.match(status.stdout, new RegExp(`^${releaseId}  running  no-worker-v\\d{8}-b\\{release\\}`, 'm'));
      assert.match(status.stdout, /no step table: the release did not answer its status query: /);
      assert.match(status.stdout, new RegExp(`! no worker polls the workflow task queue ${prefix}workflows`));
      const json = JSON.parse((await runCli(['job', 'status', releaseId, '--json'], noWorker)).stdout) as {
        workflowStatus: string;
        workerProblems: Array<{ taskQueue: string }>;
      };
      assert.equal(json.workflowStatus, 'RUNNING');
      assert.deepEqual(json.workerProblems.map((p) => p.taskQueue), [`${prefix}workflows`]);

      const timeoutJson = await runCli(['job', 'watch', releaseId, '--timeout', '2s', '--json'], noWorker);
      assert.equal(timeoutJson.status, 3);
      const last = JSON.parse(timeoutJson.stdout.trim().split('\n').at(-1)!) as { error: { code: string; exitCode: number } };
      assert.deepEqual([last.error.code, last.error.exitCode], ['timeout', 3]);
      // `job add` starts through the SDK's one start helper: the Web UI lists it by its summary.
      const summary = await (await h.client.temporal.workflow.getHandle(releaseId).describe()).staticSummary();
      assert.match(summary ?? '', /^release no-worker-v\d{8}-b\{release\} · local\/test · region-1, region-2, region-3, region-4$/);
    } finally {
      await terminate(releaseId);
    }
  });

  it('a release waiting for its utctime says until when; job list is newest first and a finished table has nothing pending', async () => {
    const startAt = new Date(Date.now() + 3_600_000).toISOString().replace(/\.\d+Z$/, 'Z');
    const waiting = await h.client.startRelease(h.job({ cloud_image_name: 'later-v{date}-b{release}', utctime: startAt }));
    try {
      for (let i = 0; (await h.client.getRelease(waiting.releaseId).catch(() => undefined))?.state !== 'waiting'; i++) {
        assert.ok(i < 100, 'the release waits');
        await sleep(100);
      }
      const status = await runCli(['job', 'status', waiting.releaseId], env);
      assert.match(status.stdout, new RegExp(`^${waiting.releaseId}  waiting until ${startAt}`, 'm'));
      // Started after the waiting one, and finished: SQL visibility alone lists it after the running one.
      const quick = await h.client.startRelease(h.job({ cloud_image_name: 'quick-v{date}-b{release}', last_service: 'download' }));
      await h.client.waitForRelease(quick.releaseId);
      let lines: string[] = [];
      for (let i = 0; i < 30 && lines.length < 2; i++) {
        lines = (await runCli(['job', 'list', '--image', 'quick-', '--limit', '5'], env)).stdout.trim().split('\n');
        lines = [...lines, ...(await runCli(['job', 'list', '--image', 'later-'], env)).stdout.trim().split('\n')].filter((l) => !l.startsWith('no releases'));
        if (lines.length < 2) await sleep(300);
      }
      const later = lines.find((l) => l.includes(waiting.releaseId));
      assert.match(later ?? '', new RegExp(`waiting +until ${startAt} +local/test`));
      const all = JSON.parse((await runCli(['job', 'list', '--json'], env)).stdout) as Array<{ releaseId: string; startedAt: string }>;
      const starts = all.map((r) => Date.parse(r.startedAt));
      assert.deepEqual(starts, [...starts].sort((a, b) => b - a), 'newest first');
      assert.ok(all.findIndex((r) => r.releaseId === quick.releaseId) < all.findIndex((r) => r.releaseId === waiting.releaseId));

      await h.client.cancelRelease(waiting.releaseId);
      const cancelled = await h.client.waitForRelease(waiting.releaseId);
      assert.equal(cancelled.state, 'cancelled');
      const table = await runCli(['job', 'status', waiting.releaseId], env);
      assert.doesNotMatch(table.stdout, /pending/);
      assert.match(table.stdout, /^ {2}cleanup +skipped +not run: the release was cancelled$/m);
    } finally {
      await terminate(waiting.releaseId);
    }
  });

  it('refuses bad option values by name with what was expected and what was given, as JSON with --json', async () => {
    const cases: Array<[string[], RegExp]> = [
      [['job', 'list', '--limit', 'abc'], /option '--limit <n>' argument 'abc' is invalid\. expected a positive integer/],
      [['job', 'list', '--limit', '0'], /option '--limit <n>' argument '0' is invalid/],
      [['job', 'list', '--cloud', 'foo'], /option '--cloud <cloud>' argument 'foo' is invalid\. Allowed choices are local, ec2, gce, azure/],
      [['job', 'list', '--since', 'yesterday-ish'], /option '--since <when>' argument 'yesterday-ish' is invalid\. expected an ISO date\/time/],
      [['job', 'watch', 'x', '--timeout', 'soon'], /option '--timeout <duration>' argument 'soon' is invalid\. expected a duration such as 90s/],
      [['job', 'add', 'nocloud', 'job.json'], /value 'nocloud' is invalid for argument 'cloud'\. Allowed choices are local, ec2, gce, azure/],
      [['schedule', 'deprecate', '--cloud', 'local', '--account', 'a', '--image-line', 'x-{date}', '--keep', 'many'], /option '--keep <n>' argument 'many' is invalid/],
      [['schedule', 'deprecate', '--cloud', 'local', '--account', 'a', '--image-line', 'x-{date}', '--every', 'daily'], /option '--every <interval>' argument 'daily' is invalid/],
      [['token', 'create', '--scope', 'release:local:test', '--ttl', '1h', '--max-uses', '-1'], /option '--max-uses <n>' argument '-1' is invalid/],
    ];
    for (const [args, message] of cases) {
      const ran = await runCli([...args, '--json'], env);
      assert.equal(ran.status, 2, `${args.join(' ')}: ${ran.stderr}`);
      assert.match(ran.stderr, message, args.join(' '));
      const { error } = JSON.parse(ran.stdout) as { error: { message: string; code: string; exitCode: number } };
      assert.equal(error.code, 'invalid_input');
      assert.equal(error.exitCode, 2);
      assert.match(error.message, message);
    }
  });

  it('names the address and where it came from when Temporal cannot be reached, in text and JSON', async () => {
    const closed = await freePort();
    const ran = await runCli(['job', 'list', '--json'], { ...env, IMAGECAST_TEMPORAL_ADDRESS: `127.0.0.1:${closed}` });
    assert.equal(ran.status, 1);
    assert.match(ran.stderr, new RegExp(`could not reach Temporal at 127\\.0\\.0\\.1:${closed} \\(from IMAGECAST_TEMPORAL_ADDRESS; set it with --address`));
    const { error } = JSON.parse(ran.stdout) as { error: { code: string; address: string } };
    assert.deepEqual([error.code, error.address], ['unreachable', `127.0.0.1:${closed}`]);
  });

  it('a retry starts with the same static summary, and its details say what it retries', async () => {
    const startAt = new Date(Date.now() + 3_600_000).toISOString();
    const { releaseId } = await h.client.startRelease(h.job({ cloud_image_name: 'summary-v{date}-b{release}', utctime: startAt }));
    const handle = h.client.temporal.workflow.getHandle(releaseId);
    try {
      await h.client.cancelRelease(releaseId);
      assert.equal((await h.client.waitForRelease(releaseId)).state, 'cancelled');
      const retried = await runCli(['job', 'retry', releaseId, '--json'], env);
      assert.equal(retried.status, 0, retried.stderr);
      const description = await handle.describe();
      assert.equal(description.runId, (JSON.parse(retried.stdout) as { runId: string }).runId);
      assert.match((await description.staticSummary()) ?? '', /^release summary-v\d{8}-b\{release\} · local\/test · region-1, region-2, region-3, region-4$/);
      assert.match((await description.staticDetails()) ?? '', /\*\*retry of\*\* run [0-9a-f-]+ \(cancelled\)/);
    } finally {
      await terminate(releaseId);
    }
  });
});

describe('a release whose activity queue has no worker', () => {
  let h: ReleaseHarness;
  before(async () => {
    // Workflows are served, the local cloud's activities are not.
    h = await startReleaseHarness('no-cloud-worker', { queues: ['workflows'] });
    await h.publish('1');
  });
  after(async () => h?.stop());

  it('job add --wait names the queue its activity waits on and the command that serves it', async () => {
    const env = { ...process.env, IMAGECAST_TEMPORAL_ADDRESS: h.temporalAddress, IMAGECAST_QUEUE_PREFIX: h.queuePrefix };
    const file = join(tempDir('no-cloud-worker-job'), 'job.json');
    writeFileSync(file, JSON.stringify(h.job({ cloud_image_name: 'no-cloud-worker-v{date}-b{release}' })));
    const added = await runCli(['job', 'add', 'local', file, '--wait', '--timeout', '12s'], env);
    const releaseId = /started (\S+)/.exec(added.stdout)?.[1];
    try {
      assert.equal(added.status, 3, added.stdout + added.stderr);
      assert.doesNotMatch(added.stderr, /workflow task queue/, 'the workflows queue has its worker');
      assert.match(added.stderr, new RegExp(`no worker has polled task queue ${h.queuePrefix}local in the last 2 minutes: \\w+ waits for one \\(start one: npm run worker -- --queues local --queue-prefix ${h.queuePrefix}\\)`));
      const status = await runCli(['job', 'status', releaseId!], env);
      assert.match(status.stdout, new RegExp(`! no worker has polled task queue ${h.queuePrefix}local`));
    } finally {
      if (releaseId) await h.client.temporal.workflow.getHandle(releaseId).terminate().catch(() => undefined);
    }
  });
});
