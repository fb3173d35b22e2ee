// Revoking an EC2 release against moto behind our EC2 shim (which answers Enable- and
// DisableImageDeprecation, which moto lacks): launch and create-volume permissions come off
// the revoked AMIs, which are deprecated, and the AMIs they replaced are not deprecated anymore.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  DescribeImageAttributeCommand,
  DescribeSnapshotAttributeCommand,
  type Image,
} from '@aws-sdk/client-ec2';
import { startReleaseHarness, type ReleaseHarness } from '../support/release-harness.js';
import { startAwsEmulator, type AwsEmulator } from '../support/aws-emulator.js';

describe('revoking an EC2 release (moto)', () => {
  let aws: AwsEmulator;
  let h: ReleaseHarness;
  before(async () => {
    aws = await startAwsEmulator('revoke-ec2');
    h = await startReleaseHarness('revoke-ec2', {
      queues: ['workflows', 'ec2'],
      accounts: aws.accounts,
      providers: { ec2: aws.provider() },
    });
  });
  after(async () => {
    await h?.stop();
    await aws?.stop();
  });

  const job = {
    cloud: 'ec2',
    cloud_account: 'test-aws',
    additional_regions: [],
    cloud_image_name: 'revoke-ec2-v{date}-b{release}',
    image_description: 'Imagecast EC2 revoke test image',
    download_url: '',
    image: 'test-image',
    last_service: 'deprecate',
    utctime: 'now',
    share_with: 'all',
    allow_copy: 'image',
    root_volume_size: 1,
  };
  const launchPermissions = async (region: string, imageId: string) =>
    (
      await aws
        .ec2(region)
        .send(new DescribeImageAttributeCommand({ ImageId: imageId, Attribute: 'launchPermission' }))
    ).LaunchPermissions ?? [];
  const volumePermissions = async (region: string, image: Image) => {
    const snapshotId = image.BlockDeviceMappings?.find((m) => m.Ebs?.SnapshotId)?.Ebs?.SnapshotId;
    assert.ok(snapshotId, `the AMI ${image.ImageId} has a snapshot`);
    const answer = await aws
      .ec2(region)
      .send(
        new DescribeSnapshotAttributeCommand({ SnapshotId: snapshotId, Attribute: 'createVolumePermission' }),
      );
    return answer.CreateVolumePermissions ?? [];
  };

  it('revokes B: its AMIs unshared and deprecated, A not deprecated and still public; twice is harmless', async () => {
    const release = async (build: string) => {
      await h.publish(build);
      const { releaseId } = await h.client.startRelease({ ...job, download_url: h.buildServer.url });
      const status = await h.client.waitForRelease(releaseId, { pollIntervalMs: 200 });
      assert.equal(status.state, 'succeeded', status.error);
      return { releaseId, status };
    };
    const A = await release('1');
    const B = await release('2');
    const regions = B.status.images.map((i) => i.region).sort();
    assert.ok(regions.length >= 2, `released to ${regions.join(', ')}`);
    for (const region of regions)
      assert.ok(
        aws.shim.deprecations.has(`${region}/${A.status.images.find((i) => i.region === region)!.imageId}`),
        `B deprecated A in ${region}`,
      );

    const outcome = await h.client.revokeRelease(B.releaseId, {
      by: 'erin',
      reason: 'bad cloud-init',
      pollIntervalMs: 200,
    });
    assert.equal(outcome.status.state, 'succeeded', outcome.status.error);
    assert.equal(outcome.result?.withdrawn.length, regions.length);
    assert.equal(outcome.result?.restored.length, regions.length);
    for (const region of regions) {
      const [b] = await aws.imagesNamed(region, B.status.imageName);
      const [a] = await aws.imagesNamed(region, A.status.imageName);
      assert.deepEqual(
        await launchPermissions(region, b!.ImageId!),
        [],
        `B launchable by nobody else in ${region}`,
      );
      assert.deepEqual(await volumePermissions(region, b!), [], `B's snapshot not copyable in ${region}`);
      assert.ok(aws.shim.deprecations.has(`${region}/${b!.ImageId}`), `B deprecated in ${region}`);
      assert.ok(b!.DeprecationTime, `DescribeImages says B is deprecated in ${region}`);
      assert.equal(
        b!.Tags?.find((t) => t.Key === 'Replacement image')?.Value,
        `${a!.ImageId}--${A.status.imageName}`,
      );

      assert.deepEqual(
        await launchPermissions(region, a!.ImageId!),
        [{ Group: 'all' }],
        `A public as before in ${region}`,
      );
      assert.deepEqual(
        await volumePermissions(region, a!),
        [{ Group: 'all' }],
        `A copyable as before in ${region}`,
      );
      assert.equal(
        aws.shim.deprecations.has(`${region}/${a!.ImageId}`),
        false,
        `A not deprecated in ${region}`,
      );
      assert.equal(a!.DeprecationTime, undefined);
      assert.equal(
        a!.Tags?.some((t) => t.Key === 'Deprecated on' || t.Key === 'Replacement image'),
        false,
        `A's deprecation tags gone in ${region}`,
      );
    }
    const catalog = await h.catalog.listImages({ cloud: 'ec2', account: 'test-aws' });
    for (const image of catalog.filter((i) => i.imageName === A.status.imageName))
      assert.equal(image.state, 'active');
    for (const image of catalog.filter((i) => i.imageName === B.status.imageName)) {
      assert.equal(image.state, 'deprecated');
      assert.equal(image.revokedBy, 'erin');
    }

    const calls = aws.shim.calls('EnableImageDeprecation').length;
    const again = await h.client.revokeRelease(B.releaseId, { by: 'erin', pollIntervalMs: 200 });
    assert.equal(again.result?.alreadyRevoked?.reason, 'bad cloud-init');
    assert.equal(
      aws.shim.calls('EnableImageDeprecation').length,
      calls,
      'the second revoke changed nothing in the cloud',
    );
  });
});
