// EC2 (moto behind our shim, copies pending for a while as in AWS): `job retry` of a terminated
// release adopts its snapshot, AMI and copies; a copy that outlasts an activity attempt is
// adopted by the retry, never started twice.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { DescribeImagesCommand } from '@aws-sdk/client-ec2';
import { MockActivityEnvironment } from '@temporalio/testing';
import { startReleaseHarness, type ReleaseHarness } from '../support/release-harness.js';
import { startAwsEmulator, type AwsEmulator } from '../support/aws-emulator.js';
import type { ImageRef, ReleaseRef } from '../../activities/provider.js';
import type { ReleaseStatus } from '../../client/sdk/index.js';

const HOME = 'us-east-1';
const COPY_DELAY_MS = 2500;

describe('EC2 retries reuse and adopt (moto)', () => {
  let aws: AwsEmulator;
  let h: ReleaseHarness;
  before(async () => {
    aws = await startAwsEmulator('ec2-reuse', {}, [], { copyDelayMs: COPY_DELAY_MS });
    h = await startReleaseHarness('ec2-reuse', {
      queues: ['workflows', 'ec2'],
      diskMiB: 16,
      accounts: aws.accounts,
      providers: { ec2: aws.provider() },
    });
    await h.publish('1');
  });
  after(async () => {
    await h?.stop();
    await aws?.stop();
  });

  const step = (status: ReleaseStatus, name: string) => status.steps.find((s) => s.name === name)!;
  const tagged = (tags: Array<{ Key?: string; Value?: string }> | undefined, key: string) =>
    tags?.find((t) => t.Key === key)?.Value;

  it('a release terminated after create: the retry adopts its snapshot, AMI and copies and uploads nothing', async () => {
    // ap-northeast-1 refuses copies: the release blocks after create, keeping what it made.
    aws.shim.inject({
      action: 'CopyImage',
      region: 'ap-northeast-1',
      code: 'InvalidParameterValue',
      message: 'region refuses copies',
      times: Infinity,
    });
    const { releaseId } = await h.client.startRelease({
      cloud: 'ec2',
      cloud_account: 'test-aws',
      additional_regions: ['ap-northeast-1', 'us-west-2'],
      cloud_image_name: 'reuse-ec2-v{date}-b{release}',
      image_description: 'Imagecast EC2 test image',
      download_url: h.buildServer.url,
      image: 'test-image',
      last_service: 'publish',
      utctime: 'now',
      share_with: 'none',
      root_volume_size: 1,
    });
    const blocked = await h.client.waitForRelease(releaseId, { pollIntervalMs: 200 });
    assert.equal(blocked.state, 'blocked', blocked.error);
    const handle = h.client.temporal.workflow.getHandle(releaseId);
    const earlierRun = (await handle.describe()).runId;
    const { imageName } = blocked;
    const [homeAmi] = await aws.imagesNamed(HOME, imageName);
    assert.ok(homeAmi?.ImageId);
    const snapshotsBefore = (await aws.snapshotsIn(HOME)).filter(
      (s) => tagged(s.Tags, 'imagecast:release-token') === earlierRun,
    );
    assert.equal(snapshotsBefore.length, 1);
    // EBS direct is REST: the shim records StartSnapshot as "POST /snapshots".
    const startSnapshots = aws.shim.calls('POST /snapshots').length;
    assert.ok(startSnapshots >= 1, 'the first run started its snapshot');
    const registers = aws.shim.calls('RegisterImage').length;

    await handle.terminate('the worker pool was torn down');
    aws.shim.clearFaults();
    const { runId } = await h.client.retryRelease(releaseId);
    const done = await h.client.waitForRelease(releaseId, { pollIntervalMs: 200 });
    assert.equal(done.state, 'succeeded', done.error);

    const from = `from the earlier run ${earlierRun}`;
    assert.equal(
      step(done, 'upload').detail,
      `reused ${snapshotsBefore[0]!.SnapshotId} ${from}: nothing uploaded`,
    );
    assert.equal(step(done, 'create').detail, `reused ${homeAmi.ImageId} ${from} in ${HOME}`);
    assert.deepEqual(
      done.reused?.map((r) => [r.kind, r.region]).sort(),
      [
        ['disk', HOME],
        ['image', HOME],
        ['image', 'eu-west-1'],
        ['image', 'us-west-2'],
      ].sort(),
    );
    assert.match(step(done, 'replicate').detail!, new RegExp(`ap-northeast-1: ami-\\w+`));
    // No second upload and no second registration: no new snapshot, one AMI per region, now the retry's.
    assert.equal(aws.shim.calls('POST /snapshots').length, startSnapshots, 'no snapshot was started');
    assert.equal(aws.shim.calls('RegisterImage').length, registers, 'no AMI was registered');
    for (const region of [HOME, 'eu-west-1', 'ap-northeast-1', 'us-west-2']) {
      const amis = await aws.imagesNamed(region, imageName);
      assert.deepEqual(
        amis.map((a) => tagged(a.Tags, 'imagecast:release-token')),
        [runId],
        `one AMI in ${region}, the retry's`,
      );
    }
    assert.equal(
      (await aws.snapshotsIn(HOME)).filter((s) => tagged(s.Tags, 'imagecast:release-token') === earlierRun)
        .length,
      0,
    );
  });

  it('a copy that outlasts its activity attempt is adopted by the retry: one CopyImage', async () => {
    const provider = aws.provider();
    // The AMI the release above made is the source.
    const { Images } = await aws.ec2(HOME).send(new DescribeImagesCommand({ Owners: ['self'] }));
    const home = Images!.find((i) => i.Name?.startsWith('reuse-ec2-'))!;
    const release: ReleaseRef = {
      releaseId: 'slow-copy',
      releaseToken: 'slow-copy-token',
      cloud: 'ec2',
      account: 'test-aws',
    };
    const input = {
      release,
      source: { region: HOME, imageId: home.ImageId!, imageName: home.Name! },
      targetRegion: 'ca-central-1',
      description: 'slow copy',
    };
    const copies = () => aws.shim.calls('CopyImage').filter((c) => c.region === 'ca-central-1').length;

    const first = new MockActivityEnvironment({ attempt: 1 });
    const beats: unknown[] = [];
    first.on('heartbeat', (details: unknown) => beats.push(details));
    const firstAttempt = first.run(() => provider.replicateImage(input));
    while (beats.length === 0) await new Promise((r) => setTimeout(r, 50));
    // The attempt dies while the copy is pending (its timeout; here: cancelled).
    first.cancel();
    await assert.rejects(firstAttempt);
    assert.match(JSON.stringify(beats[0]), /"state":"pending"/);
    assert.equal(copies(), 1);

    const second = new MockActivityEnvironment({ attempt: 2 });
    const copy: ImageRef = await second.run(() => provider.replicateImage(input));
    assert.equal(copies(), 1, 'the retry adopted the copy under way');
    const [ami] = await aws.imagesNamed('ca-central-1', home.Name!);
    assert.equal(copy.imageId, ami?.ImageId);
    assert.equal(ami?.State, 'available');
  });
});
