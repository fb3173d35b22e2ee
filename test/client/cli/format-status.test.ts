import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { attemptsPerStep, formatStatus, retriesPerStep } from '../../../client/cli/format-status.js';
import { listLine } from '../../../client/cli/commands/job-manage.js';
import type { PendingActivity } from '../../../client/sdk/index.js';
import { failedRelease, succeededRelease } from '../../support/release-status-fixture.js';

const attempt = (activity: string, n: number, outcome: 'completed' | 'failed' | 'running', error?: string) => ({
  activityId: `${activity}-${n}`,
  activity,
  taskQueue: 'imagecast-ec2',
  attempt: n,
  outcome,
  ...(error && { error }),
});

describe('job status table', () => {
  it('shows a checksum the upload computed (the build published none) as not verified', () => {
    const text = formatStatus(
      succeededRelease({
        checksum: { value: `sha256:${'ab'.repeat(32)}`, verified: false, note: 'computed, not verified: no KEY.sha256' },
      }),
    );
    assert.match(text, /^ {2}checksum sha256:(ab){32} \(computed, not verified: no KEY\.sha256\)$/m);
    assert.doesNotMatch(formatStatus(succeededRelease()), /checksum/);
  });

  it('counts the test step attempts and lists each image test with its result and reason', () => {
    const attempts = attemptsPerStep([
      attempt('createImage', 1, 'completed'),
      attempt('testImage', 1, 'failed', 'terminate failed'),
      attempt('testImage', 2, 'completed'),
    ]);
    assert.deepEqual(attempts, { create: 1, test: 2 });
    const text = formatStatus(
      failedRelease({
        testResults: [
          { name: 'test_hostname', passed: true, durationMs: 700, output: 'vm-1' },
          { name: 'test_sles', passed: false, durationMs: 250, output: 'ID=debian', error: 'output does not match /^ID="?sles"?$/m' },
          { name: 'test_soft_reboot', passed: true, durationMs: 0, output: '', skipped: 'the EC2 endpoint is an emulator' },
        ],
      }),
      { attempts },
    );
    assert.match(text, /^ {2}test +failed +601\.0s +2× +ImageTestFailed/m);
    assert.match(text, /^ {2}test test_hostname +passed +0\.7s$/m);
    assert.match(text, /^ {2}test test_sles +FAILED +0\.3s +output does not match/m);
    assert.match(text, /^ {2}test test_soft_reboot +skipped +0\.0s +the EC2 endpoint is an emulator$/m);
  });

  it('counts a retrying activity with its live attempt and shows its last failure and next attempt under its step', () => {
    const pending: PendingActivity[] = [
      {
        activityId: '5',
        activity: 'resolveSource',
        state: 'scheduled',
        attempt: 4,
        maximumAttempts: 10,
        lastFailure: 'connect ECONNREFUSED 127.0.0.1:9',
        nextAttemptAt: new Date('2026-12-03T06:00:08Z'),
      },
    ];
    // The history still says attempt 1 (it records an attempt once it ends).
    const attempts = attemptsPerStep([attempt('resolveSource', 1, 'running')], pending);
    assert.deepEqual(attempts, { download: 4 });
    const running = succeededRelease({
      state: 'running',
      currentStep: 'download',
      steps: succeededRelease().steps.map((s) => (s.name === 'download' ? { name: 'download', state: 'running' } : { name: s.name, state: 'pending' })),
    });
    const text = formatStatus(running, { attempts, retries: retriesPerStep(pending) });
    assert.match(text, /^ {2}download +running +4×$/m);
    assert.match(text, /^ {6}resolveSource attempt 4\/10, last failure: connect ECONNREFUSED 127\.0\.0\.1:9, next attempt 2026-12-03T06:00:08\.000Z$/m);
    assert.match(text, /^ {2}cleanup +pending/m, 'a running release still has steps to come');
  });

  it('a finished release shows steps that never ran as "not run", and a waiting one says until when', () => {
    const failed = failedRelease();
    failed.steps.find((s) => s.name === 'cleanup')!.state = 'pending';
    assert.match(formatStatus(failed), /^ {2}cleanup +not run/m);
    assert.doesNotMatch(formatStatus(failed), /pending/);
    const waiting = succeededRelease({ state: 'waiting', steps: failed.steps.map((s) => ({ name: s.name, state: 'pending' })) });
    assert.match(formatStatus(waiting, { startAt: '2026-12-24T06:00:00Z' }), /^release-demo-20250102 {2}waiting until 2026-12-24T06:00:00Z/);
  });

  it('job list: a waiting release says until when, a finished one shows no step', () => {
    const base = { releaseId: 'r1', runId: 'x', workflowStatus: 'RUNNING', cloud: 'local', account: 'test', imageName: 'img', startedAt: new Date('2026-12-03T05:00:00Z') };
    assert.match(listLine({ ...base, state: 'waiting', step: 'done', startAt: '2026-12-24T06:00:00Z' }), /waiting +until 2026-12-24T06:00:00Z +local\/test/);
    assert.match(listLine({ ...base, state: 'running', step: 'upload' }), /running +upload +local\/test/);
    const done = listLine({ ...base, workflowStatus: 'COMPLETED', state: 'succeeded', step: 'done' });
    assert.doesNotMatch(done, /done/);
  });
});

describe('job status table: dry runs and reported retries', () => {
  it("prints a dry run's report: where it would release, the build, what it would deprecate, its problems", () => {
    const status = succeededRelease({
      dryRun: {
        imageName: 'sles-v20261203',
        build: { url: 'http://builds/sles.raw.xz', checksum: 'sha256:abc' },
        account: 'prod',
        homeRegion: 'us-east-1',
        replicaRegions: ['eu-west-1'],
        sharing: 'public',
        allowCopy: false,
        tests: ['test_sles'],
        lastService: 'deprecate',
        startAt: '2026-12-04T00:00:00Z',
        wouldDeprecate: [{ region: 'us-east-1', imageId: 'ami-old', imageName: 'sles-v20261101' }],
        problems: ['an image named "sles-v20261203" already exists in eu-west-1 (ami-x)'],
      },
    });
    const text = formatStatus(status);
    assert.match(text.split('\n')[0]!, /succeeded \(dry run: nothing was made\)/);
    assert.match(text, /^ {2}dry run: would release sles-v20261203 in prod: us-east-1, eu-west-1 \(public, no copying\)$/m);
    assert.match(text, /^ {4}build http:\/\/builds\/sles\.raw\.xz \(sha256:abc\)$/m);
    assert.match(text, /^ {4}would start at 2026-12-04T00:00:00Z$/m);
    assert.match(text, /^ {4}would deprecate: ami-old \(us-east-1\)$/m);
    assert.match(text, /^ {4}problem: an image named "sles-v20261203" already exists in eu-west-1 \(ami-x\)$/m);
  });

  it('shows the failures the worker reported on a step that is still not through', () => {
    const status = succeededRelease();
    Object.assign(status, { state: 'running' });
    Object.assign(status.steps[1]!, { state: 'running', failedAttempts: 2, lastFailure: 'uploadImage attempt 2 of 20 failed: ECONNRESET' });
    assert.match(formatStatus(status), /^ {6}2 failed attempts, last: uploadImage attempt 2 of 20 failed: ECONNRESET$/m);
  });

  it('names the start time of a waiting release the release itself reports', () => {
    const status = succeededRelease();
    Object.assign(status, { state: 'waiting', waitingUntil: '2026-12-05T10:00:00Z' });
    assert.match(formatStatus(status).split('\n')[0]!, /waiting until 2026-12-05T10:00:00Z/);
  });
});
