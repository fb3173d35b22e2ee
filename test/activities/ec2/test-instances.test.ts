// EC2 test instances against moto (behind our shim): the liveness check the SSH wait uses.
// Moto's instances run no OS, so SSH itself is tested on QEMU (release-local-tested).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { DescribeImagesCommand, StopInstancesCommand, TerminateInstancesCommand } from '@aws-sdk/client-ec2';
import { startAwsEmulator, type AwsEmulator } from '../../support/aws-emulator.js';
import { ephemeralKeyPair } from '../../../activities/common/image-tests/ssh-keys.js';
import type { ReleaseRef } from '../../../activities/provider.js';

const REGION = 'us-east-1';

describe('EC2 test instances (moto)', () => {
  let aws: AwsEmulator;
  before(async () => {
    aws = await startAwsEmulator('ec2-test-instances');
  });
  after(async () => aws?.stop());

  it('says a test instance is gone once it is stopped or terminated, and not while it runs', async () => {
    const provider = aws.provider();
    // moto ships public AMIs; any one will do for launching.
    const { Images } = await aws.ec2(REGION).send(new DescribeImagesCommand({ Owners: ['amazon'], MaxResults: 5 }));
    const image = { region: REGION, imageId: Images![0]!.ImageId!, imageName: 'any' };
    const launch = async () => {
      const release: ReleaseRef = { releaseId: 'r', releaseToken: randomUUID(), cloud: 'ec2', account: 'test-aws' };
      return { release, instance: await provider.launchTestInstance!({ release, image, publicKey: ephemeralKeyPair().publicKey }) };
    };

    const terminated = await launch();
    assert.equal(await provider.testInstanceGone!(terminated.release, terminated.instance), undefined, 'running');
    await aws.ec2(REGION).send(new TerminateInstancesCommand({ InstanceIds: [terminated.instance.instanceId] }));
    assert.match((await provider.testInstanceGone!(terminated.release, terminated.instance)) ?? '', /^instance i-\w+ is (shutting-down|terminated)/);
    await provider.terminateTestInstance!(terminated.release, terminated.instance);

    const stopped = await launch();
    await aws.ec2(REGION).send(new StopInstancesCommand({ InstanceIds: [stopped.instance.instanceId] }));
    assert.match((await provider.testInstanceGone!(stopped.release, stopped.instance)) ?? '', /^instance i-\w+ is (stopping|stopped)/);
    await provider.terminateTestInstance!(stopped.release, stopped.instance);

    const missing = { ...stopped.instance, instanceId: 'i-0123456789abcdef0' };
    assert.match((await provider.testInstanceGone!(stopped.release, missing)) ?? '', /no longer exists/);
  });
});
