// The EC2 test step under faults (moto behind our shim, which injects AWS errors): ten
// releases, each with a different failure in the key pair / instance calls — refused, throttled,
// 5xx until the activity attempt gives up — and afterwards no instance is left running and no
// key pair is left, whatever the release's outcome. Moto's instances run no OS, so the SSH part
// is skipped there (test/workflows/release-local-tested.test.ts runs it for real under QEMU).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { DescribeInstancesCommand, DescribeKeyPairsCommand } from '@aws-sdk/client-ec2';
import { startReleaseHarness, type ReleaseHarness } from '../support/release-harness.js';
import { startAwsEmulator, type AwsEmulator } from '../support/aws-emulator.js';
import type { InjectedFault } from '../../infra/devstack/ec2-shim.js';

const HOME = 'us-east-1';

/** Each release's fault and how the release must end. The SDK tries each call twice here. */
const CASES: Array<{ fault?: Omit<InjectedFault, 'message'>; ends: 'succeeded' | 'failed'; why: string }> = [
  { ends: 'succeeded', why: 'no fault' },
  { fault: { action: 'ImportKeyPair', code: 'InternalError', status: 500, times: 2 }, ends: 'succeeded', why: 'key import 5xx: the attempt fails, the next imports' },
  { fault: { action: 'RunInstances', code: 'InsufficientInstanceCapacity', status: 400 }, ends: 'failed', why: 'no capacity: refused for good' },
  { fault: { action: 'RunInstances', code: 'InternalError', status: 500, times: 2 }, ends: 'succeeded', why: 'launch 5xx: retried' },
  { fault: { action: 'DescribeInstances', code: 'RequestLimitExceeded', status: 503, times: 3 }, ends: 'succeeded', why: 'throttled while waiting for running' },
  { fault: { action: 'TerminateInstances', code: 'InternalError', status: 500, times: 2 }, ends: 'succeeded', why: 'terminate 5xx: the retry removes the stale instance first' },
  { fault: { action: 'DeleteKeyPair', code: 'InternalError', status: 500, times: 2 }, ends: 'succeeded', why: 'key delete 5xx: retried' },
  { fault: { action: 'ImportKeyPair', code: 'UnauthorizedOperation', status: 403 }, ends: 'failed', why: 'no permission to import keys' },
  { fault: { action: 'RunInstances', code: 'InternalError', status: 500, times: 6 }, ends: 'failed', why: 'launch 5xx on every attempt' },
  { ends: 'succeeded', why: 'no fault, after all of the above' },
];

describe('EC2 test instances under injected faults (moto)', () => {
  let aws: AwsEmulator;
  let h: ReleaseHarness;
  before(async () => {
    aws = await startAwsEmulator('ec2-test-faults');
    h = await startReleaseHarness('ec2-test-faults', {
      queues: ['workflows', 'ec2'],
      diskMiB: 8,
      accounts: aws.accounts,
      providers: { ec2: aws.provider({ maxAttempts: 2 }) },
    });
    await h.publish('1');
  });
  after(async () => {
    await h?.stop();
    await aws?.stop();
  });

  it(`leaves no instance and no key pair after ${CASES.length} releases with a fault each`, async (t) => {
    for (const [i, c] of CASES.entries()) {
      aws.shim.clearFaults();
      if (c.fault) aws.shim.inject({ ...c.fault, message: `injected (${c.why})` });
      const { releaseId } = await h.client.startRelease({
        cloud: 'ec2',
        cloud_account: 'test-aws',
        additional_regions: [],
        cloud_image_name: `faults-${i}-v{date}`,
        image_description: 'fault test',
        download_url: h.buildServer.url,
        image: 'test-image',
        last_service: 'test',
        tests: ['test_hostname'],
      });
      const done = await h.client.waitForRelease(releaseId, { pollIntervalMs: 200 });
      t.diagnostic(`${i + 1}. ${c.why}: ${done.state}${done.error ? ` (${done.error.slice(0, 100)})` : ''}`);
      assert.equal(done.state, c.ends, `case ${i + 1} (${c.why}): ${done.error}`);
    }
    aws.shim.clearFaults();

    const { Reservations } = await aws.ec2(HOME).send(new DescribeInstancesCommand({}));
    const instances = (Reservations ?? []).flatMap((r) => r.Instances ?? []);
    const alive = instances.filter((i) => i.State?.Name !== 'terminated');
    const { KeyPairs } = await aws.ec2(HOME).send(new DescribeKeyPairsCommand({}));
    const keys = (KeyPairs ?? []).filter((k) => k.KeyName?.startsWith('imagecast-'));
    t.diagnostic(`${instances.length} instances launched, ${alive.length} left running; ${keys.length} key pairs left`);
    assert.ok(instances.length >= 8, 'instances were launched');
    assert.deepEqual(alive.map((i) => i.InstanceId), [], 'no instance left running');
    assert.deepEqual(keys.map((k) => k.KeyName), [], 'no key pair left');
  });
});
