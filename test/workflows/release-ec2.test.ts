// The EC2 release workflow against moto (EC2, EBS direct) behind our shim for the actions
// moto lacks (EnableImageDeprecation; tags and name uniqueness on RegisterImage/CopyImage).
// The shim records every EC2 Query action, which is how the parameters we send are checked.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  DescribeImageAttributeCommand,
  DescribeInstancesCommand,
  DescribeKeyPairsCommand,
  DescribeSnapshotAttributeCommand,
} from '@aws-sdk/client-ec2';
import { startReleaseHarness, type ReleaseHarness } from '../support/release-harness.js';
import { startAwsEmulator, type AwsEmulator } from '../support/aws-emulator.js';

const HOME = 'us-east-1';
const REGIONS = [HOME, 'eu-west-1', 'ap-northeast-1', 'us-west-2'];

describe('release workflow on EC2 (moto)', () => {
  let aws: AwsEmulator;
  let h: ReleaseHarness;
  before(async () => {
    aws = await startAwsEmulator('release-ec2');
    h = await startReleaseHarness('release-ec2', {
      queues: ['workflows', 'ec2'],
      diskMiB: 16,
      accounts: aws.accounts,
      providers: { ec2: aws.provider() },
    });
  });
  after(async () => {
    await h?.stop();
    await aws?.stop();
  });

  const ec2Job = (overrides: Record<string, unknown> = {}) => ({
    cloud: 'ec2',
    cloud_account: 'test-aws',
    additional_regions: ['ap-northeast-1', 'us-west-2'],
    cloud_image_name: 'release-ec2-v{date}-b{release}',
    image_description: 'Imagecast EC2 test image',
    download_url: h.buildServer.url,
    image: 'test-image',
    last_service: 'deprecate',
    utctime: 'now',
    share_with: 'all',
    allow_copy: 'image',
    billing_codes: 'bp-1234567890',
    boot_firmware: ['uefi-preferred'],
    tpm_support: 'v2.0',
    imds_support: 'v2.0',
    root_volume_size: 1,
    ...overrides,
  });

  it('uploads with EBS direct, registers, copies to 3 regions, publishes, and the next release deprecates it', async () => {
    await h.publish('1');
    const { releaseId } = await h.client.startRelease(ec2Job());
    const done = await h.client.waitForRelease(releaseId, { pollIntervalMs: 200 });
    assert.equal(done.state, 'succeeded', done.error);
    assert.deepEqual(
      done.steps.map((s) => `${s.name}:${s.state}`),
      [
        'download:succeeded',
        'upload:succeeded',
        'create:succeeded',
        'test:skipped',
        'raw_image_upload:skipped',
        'replicate:succeeded',
        'publish:succeeded',
        'deprecate:succeeded',
        'cleanup:succeeded',
      ],
    );
    assert.deepEqual(done.images.map((i) => i.region).sort(), [...REGIONS].sort());

    // Zero blocks were not sent: the demo disk is mostly zeros.
    const upload = done.steps.find((s) => s.name === 'upload')!;
    const [, size, written] = /(\d+) bytes verified, (\d+) written/.exec(upload.detail ?? '') ?? [];
    assert.ok(Number(written) < Number(size) / 2, `only the data blocks were written (${upload.detail})`);

    // Exactly one public AMI per region, carrying the run's token; its snapshots copyable by all.
    for (const region of REGIONS) {
      const images = await aws.imagesNamed(region, done.imageName);
      assert.equal(images.length, 1, `one AMI in ${region}`);
      const image = images[0]!;
      assert.equal(image.State, 'available');
      assert.ok(
        image.Tags?.some((t) => t.Key === 'imagecast:release-token'),
        `tagged in ${region}`,
      );
      const perms = await aws
        .ec2(region)
        .send(new DescribeImageAttributeCommand({ ImageId: image.ImageId, Attribute: 'launchPermission' }));
      assert.deepEqual(perms.LaunchPermissions, [{ Group: 'all' }], `public in ${region}`);
      const snapshotId = image.BlockDeviceMappings?.[0]?.Ebs?.SnapshotId;
      const snapPerms = await aws.ec2(region).send(
        new DescribeSnapshotAttributeCommand({
          SnapshotId: snapshotId,
          Attribute: 'createVolumePermission',
        }),
      );
      assert.deepEqual(snapPerms.CreateVolumePermissions, [{ Group: 'all' }], `copyable in ${region}`);
    }

    // The exact RegisterImage parameters (moto ignores most of them; the shim recorded them).
    const registered = aws.shim.calls('RegisterImage');
    assert.equal(registered.length, 1);
    const params = registered[0]!.params;
    assert.equal(registered[0]!.region, HOME);
    assert.equal(params.Name, done.imageName);
    assert.equal(params.Architecture, 'x86_64');
    assert.equal(params.BootMode, 'uefi-preferred');
    assert.equal(params.EnaSupport, 'true');
    assert.equal(params.SriovNetSupport, 'simple');
    assert.equal(params.TpmSupport, 'v2.0');
    assert.equal(params.ImdsSupport, 'v2.0');
    assert.equal(params['BillingProduct.1'], 'bp-1234567890');
    assert.equal(params.RootDeviceName, '/dev/sda1');
    assert.equal(params['BlockDeviceMapping.1.Ebs.SnapshotId'], upload.produced?.[0]);
    assert.equal(params['BlockDeviceMapping.1.Ebs.VolumeSize'], '1');
    assert.equal(params['BlockDeviceMapping.1.Ebs.VolumeType'], 'gp3');
    const copies = aws.shim.calls('CopyImage');
    assert.deepEqual(copies.map((c) => c.region).sort(), REGIONS.slice(1).sort());
    assert.ok(copies.every((c) => c.params.SourceRegion === HOME && c.params.ClientToken));
    assert.equal(
      (await h.catalog.listImages({ cloud: 'ec2', account: 'test-aws', state: 'active' })).length,
      4,
    );

    // The next build replaces it: every region's old AMI is deprecated and tagged with its replacement.
    await h.publish('2');
    const second = await h.client.startRelease(ec2Job());
    const next = await h.client.waitForRelease(second.releaseId, { pollIntervalMs: 200 });
    assert.equal(next.state, 'succeeded', next.error);
    assert.equal(next.deprecated.length, 4);
    assert.equal(aws.shim.calls('EnableImageDeprecation').length, 4);
    for (const region of REGIONS) {
      const [old] = await aws.imagesNamed(region, done.imageName);
      assert.ok(aws.shim.deprecations.has(`${region}/${old!.ImageId}`), `deprecation recorded in ${region}`);
      const replacement = next.images.find((i) => i.region === region)!;
      const tag = old!.Tags?.find((t) => t.Key === 'Replacement image')?.Value;
      assert.equal(tag, `${replacement.imageId}--${replacement.imageName}`);
    }
    assert.equal(
      (await h.catalog.listImages({ cloud: 'ec2', account: 'test-aws', state: 'deprecated' })).length,
      4,
    );
  });

  it('refuses a job whose account is not configured, naming it, before anything is uploaded', async () => {
    const before = aws.shim.calls().length;
    const { releaseId } = await h.client.startRelease(
      ec2Job({ cloud_account: 'nobody', cloud_image_name: 'nobody-{date}' }),
    );
    const status = await h.client.waitForRelease(releaseId, { pollIntervalMs: 200 });
    assert.equal(status.state, 'failed');
    assert.match(status.error ?? '', /no EC2 account named "nobody" \(configured: test-aws\)/);
    assert.equal(aws.shim.calls().length, before, 'no AWS call was made');
  });

  it('tests the image on an instance launched with an ephemeral key pair, and always removes both (SSH skipped: moto instances run nothing)', async () => {
    await h.publish('3');
    const { releaseId } = await h.client.startRelease(
      ec2Job({ cloud_image_name: 'release-ec2-tested-{date}-b{release}', last_service: 'test', instance_type: 't3.micro', ssh_user: 'ec2-user', tests: ['test_hostname', { name: 'has-curl', command: 'curl --version' }] }),
    );
    const done = await h.client.waitForRelease(releaseId, { pollIntervalMs: 200 });
    assert.equal(done.state, 'succeeded', done.error);
    const test = done.steps.find((s) => s.name === 'test')!;
    assert.equal(test.state, 'succeeded');
    assert.match(test.detail ?? '', /SSH tests skipped: the EC2 endpoint is an emulator/);
    assert.deepEqual(done.testResults?.map((r) => [r.name, Boolean(r.skipped)]), [['test_hostname', true], ['has-curl', true]]);

    const [imported] = aws.shim.calls('ImportKeyPair').slice(-1);
    const keyName = imported!.params.KeyName!;
    assert.match(keyName, /^imagecast-/);
    assert.match(Buffer.from(imported!.params.PublicKeyMaterial!, 'base64').toString(), /^ssh-ed25519 /, 'an ephemeral ed25519 public key');
    const [run] = aws.shim.calls('RunInstances').slice(-1);
    assert.equal(run!.params.KeyName, keyName);
    assert.equal(run!.params.InstanceType, 't3.micro');
    assert.equal(run!.params.ImageId, test.produced && done.steps.find((s) => s.name === 'create')!.produced![0]);
    const instanceId = test.produced![0]!;
    assert.ok(aws.shim.calls('TerminateInstances').some((c) => c.params['InstanceId.1'] === instanceId), 'the instance was terminated');
    assert.ok(aws.shim.calls('DeleteKeyPair').some((c) => c.params.KeyName === keyName), 'the key pair was deleted');
    const { Reservations } = await aws.ec2(HOME).send(new DescribeInstancesCommand({ InstanceIds: [instanceId] }));
    assert.equal(Reservations?.[0]?.Instances?.[0]?.State?.Name, 'terminated');
    const { KeyPairs } = await aws.ec2(HOME).send(new DescribeKeyPairsCommand({}));
    assert.ok(!KeyPairs?.some((k) => k.KeyName === keyName), 'no key pair left');
    // A test-only run (last_service test) removes its image at the end, as mash does.
    assert.equal((await aws.imagesNamed(HOME, done.imageName)).length, 0);
  });

  it('fails the release when no test instance can be launched, and leaves no image, instance or key pair', async () => {
    aws.shim.inject({ action: 'RunInstances', code: 'InsufficientInstanceCapacity', message: 'no capacity (injected)' });
    const { releaseId } = await h.client.startRelease(
      ec2Job({ cloud_image_name: 'release-ec2-untestable-{date}-b{release}', tests: ['test_hostname'] }),
    );
    const done = await h.client.waitForRelease(releaseId, { pollIntervalMs: 200 });
    assert.equal(done.state, 'failed');
    assert.match(done.error ?? '', /RunInstances refused: InsufficientInstanceCapacity: no capacity \(injected\)/);
    assert.equal((await aws.imagesNamed(HOME, done.imageName)).length, 0, 'the saga removed the image');
    const [imported] = aws.shim.calls('ImportKeyPair').slice(-1);
    const { KeyPairs } = await aws.ec2(HOME).send(new DescribeKeyPairsCommand({}));
    assert.ok(!KeyPairs?.some((k) => k.KeyName === imported!.params.KeyName), 'the saga deleted the key pair');
  });
});

