// mash's EC2 fields a job document may carry, followed from the document through the plan to
// what the EC2 provider sends: against moto behind our shim (which records every EC2 action
// and applies RegisterImage/CopyImage tags, which moto ignores).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { CreateSnapshotCommand, CreateVolumeCommand, DescribeSnapshotsCommand, type Tag } from '@aws-sdk/client-ec2';
import { planRelease } from '../../../activities/common/plan-release.js';
import { ephemeralKeyPair } from '../../../activities/common/image-tests/ssh-keys.js';
import type { ReleaseRef } from '../../../activities/provider.js';
import { startAwsEmulator, type AwsEmulator } from '../../support/aws-emulator.js';

const HOME = 'us-east-1';
const COPY = 'eu-west-1';

const mashDocument = {
  cloud_account: 'test-aws',
  skip_replication: true,
  image: 'openSUSE-Leap-15.6-EC2-HVM',
  download_url: 'https://download.example/images/',
  cloud_image_name: 'image-options-v{date}',
  image_description: 'image options test',
  last_service: 'test_cleanup',
  boot_firmware: ['uefi'],
  imds_version: '2.0',
  image_tags: [
    { Key: 'date', Value: '20220202' },
    { Key: 'product', Value: 'leap' },
  ],
  cpu_options: { AmdSevSnp: 'enabled' },
};

const has = (tags: Tag[] | undefined, key: string, value: string) =>
  (tags ?? []).some((t) => t.Key === key && t.Value === value);

describe('mash EC2 image options (moto)', () => {
  let aws: AwsEmulator;
  before(async () => {
    aws = await startAwsEmulator('ec2-job-image-options');
  });
  after(async () => aws?.stop());

  it('honours imds_version, image_tags in every region and cpu_options on the test instance', async () => {
    const plan = await planRelease({ cloud: 'ec2', ...mashDocument }, aws.accounts);
    assert.equal(plan.lastService, 'test', 'mash test_cleanup is our test');
    const provider = aws.provider();
    const release: ReleaseRef = { releaseId: 'options', releaseToken: randomUUID(), cloud: 'ec2', account: 'test-aws' };
    const ec2 = aws.ec2(HOME);
    const volume = await ec2.send(new CreateVolumeCommand({ AvailabilityZone: `${HOME}a`, Size: 1 }));
    const { SnapshotId } = await ec2.send(new CreateSnapshotCommand({ VolumeId: volume.VolumeId }));
    const disk = {
      region: HOME,
      diskId: SnapshotId!,
      sizeBytes: 1 << 20,
      bytesWritten: 1 << 20,
      checksum: { algorithm: 'sha256' as const, hex: '0'.repeat(64) },
    };
    const imageName = 'image-options-v20260101';
    const home = await provider.createImage({
      release,
      disk,
      imageName,
      description: plan.description,
      architecture: plan.architecture,
      bootFirmware: plan.bootFirmware,
      source: { url: 'file:///x', fileName: 'x.raw', compression: 'none', checksum: disk.checksum },
      options: plan.imageOptions,
    });

    const [registered] = aws.shim.calls('RegisterImage');
    assert.equal(registered?.params.ImdsSupport, 'v2.0', 'imds_version "2.0" registers ImdsSupport v2.0');
    const [homeImage] = await aws.imagesNamed(HOME, imageName);
    assert.ok(has(homeImage?.Tags, 'date', '20220202') && has(homeImage?.Tags, 'product', 'leap'), 'AMI tagged');
    const { Snapshots } = await ec2.send(new DescribeSnapshotsCommand({ SnapshotIds: [SnapshotId!] }));
    assert.ok(has(Snapshots?.[0]?.Tags, 'date', '20220202'), 'home snapshot tagged');

    await provider.replicateImage({ release, source: home, targetRegion: COPY, description: plan.description });
    const [copyImage] = await aws.imagesNamed(COPY, imageName);
    assert.ok(has(copyImage?.Tags, 'product', 'leap'), 'copy tagged (CopyImageTags)');
    const [copied] = aws.shim.calls('CopyImage');
    const snapshotSpec = Object.entries(copied?.params ?? {}).find(
      ([key, value]) => /^TagSpecification\.\d+\.ResourceType$/.test(key) && value === 'snapshot',
    )?.[0];
    assert.ok(snapshotSpec, 'CopyImage tags the copied snapshot');
    const prefix = snapshotSpec.replace('ResourceType', 'Tag');
    const snapshotTags = Object.entries(copied!.params)
      .filter(([key]) => key.startsWith(prefix) && key.endsWith('.Key'))
      .map(([key, value]) => `${value}=${copied!.params[key.replace(/Key$/, 'Value')]}`);
    assert.ok(snapshotTags.includes('date=20220202') && snapshotTags.includes('product=leap'), snapshotTags.join(' '));

    const instance = await provider.launchTestInstance!({ release, image: home, publicKey: ephemeralKeyPair().publicKey });
    const [run] = aws.shim.calls('RunInstances').slice(-1);
    assert.equal(run?.params['CpuOptions.AmdSevSnp'], 'enabled', 'the test instance has SEV-SNP');
    await provider.terminateTestInstance!(release, instance);
  });
});
