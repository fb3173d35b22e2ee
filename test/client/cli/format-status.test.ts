import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { attemptsPerStep, formatStatus } from '../../../client/cli/format-status.js';
import { failedRelease } from '../../support/release-status-fixture.js';

describe('job status table', () => {
  it('counts the test step attempts and lists each image test with its result and reason', () => {
    const attempts = attemptsPerStep([
      { activity: 'createImage', taskQueue: 'imagecast-ec2', attempt: 1, outcome: 'completed' },
      { activity: 'testImage', taskQueue: 'imagecast-ec2', attempt: 1, outcome: 'failed', error: 'terminate failed' },
      { activity: 'testImage', taskQueue: 'imagecast-ec2', attempt: 2, outcome: 'completed' },
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
      attempts,
    );
    assert.match(text, /^ {2}test +failed +601\.0s +2× +ImageTestFailed/m);
    assert.match(text, /^ {2}test test_hostname +passed +0\.7s$/m);
    assert.match(text, /^ {2}test test_sles +FAILED +0\.3s +output does not match/m);
    assert.match(text, /^ {2}test test_soft_reboot +skipped +0\.0s +the EC2 endpoint is an emulator$/m);
  });
});
