// The EC2 shim in front of moto, driven with the real AWS SDK clients. The shapes it answers
// with come from the Amazon EC2 API Reference, https://docs.aws.amazon.com/AWSEC2/latest/APIReference/:
// API_EnableImageDeprecation.html, API_DisableImageDeprecation.html, API_DescribeImages.html
// (Image.deprecationTime), API_RegisterImage.html, API_CopyImage.html (ClientToken, CopyImageTags),
// API_ImportSnapshot.html, API_DescribeImportSnapshotTasks.html, API_SnapshotTaskDetail.html and
// errors-overview.html (InvalidAMIID.NotFound, InvalidAMIName.Duplicate, InvalidParameterValue);
// the pass-through side from the EBS direct APIs, https://docs.aws.amazon.com/ebs/latest/APIReference/.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import {
  CopyImageCommand,
  CreateSnapshotCommand,
  CreateVolumeCommand,
  DescribeImagesCommand,
  DescribeImportSnapshotTasksCommand,
  DescribeSnapshotsCommand,
  DisableImageDeprecationCommand,
  EC2Client,
  EnableImageDeprecationCommand,
  ImportSnapshotCommand,
  RegisterImageCommand,
  waitUntilSnapshotImported,
  type Tag,
} from '@aws-sdk/client-ec2';
import {
  CompleteSnapshotCommand,
  EBSClient,
  GetSnapshotBlockCommand,
  ListSnapshotBlocksCommand,
  PutSnapshotBlockCommand,
  StartSnapshotCommand,
} from '@aws-sdk/client-ebs';
import { CreateBucketCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { startMotoServer, type MotoServer } from '../../infra/devstack/moto-server.js';
import { startEc2Shim, type Ec2Shim } from '../../infra/devstack/ec2-shim.js';

const credentials = { accessKeyId: 'test', secretAccessKey: 'test' };
const MiB = 1024 * 1024;
const BLOCK = 512 * 1024;

describe('ec2 shim in front of moto', () => {
  let moto: MotoServer;
  let shim: Ec2Shim;
  const clients: Array<{ destroy(): void }> = [];
  const ec2 = (region: string) => remember(new EC2Client({ endpoint: shim.endpoint, region, credentials }));
  const ebs = () => remember(new EBSClient({ endpoint: shim.endpoint, region: 'us-east-1', credentials }));
  const s3 = () =>
    remember(
      new S3Client({ endpoint: shim.endpoint, region: 'us-east-1', credentials, forcePathStyle: true }),
    );
  function remember<T extends { destroy(): void }>(client: T): T {
    clients.push(client);
    return client;
  }

  before(async () => {
    moto = await startMotoServer();
    shim = await startEc2Shim({ upstream: moto.endpoint });
  });
  after(async () => {
    for (const client of clients) client.destroy();
    await shim?.stop();
    await moto?.stop();
  });

  async function registerImage(region: string, name: string, tags: Tag[] = []): Promise<string> {
    const { ImageId } = await ec2(region).send(
      new RegisterImageCommand({
        Name: name,
        RootDeviceName: '/dev/xvda',
        TagSpecifications: tags.length ? [{ ResourceType: 'image', Tags: tags }] : undefined,
      }),
    );
    return ImageId!;
  }
  async function describeImage(region: string, imageId: string) {
    const { Images } = await ec2(region).send(new DescribeImagesCommand({ ImageIds: [imageId] }));
    assert.equal(Images?.length, 1);
    return Images[0]!;
  }
  const errorName = (name: string, message?: RegExp) => (error: Error) => {
    assert.equal(error.name, name);
    if (message) assert.match(error.message, message);
    return true;
  };

  test('stores EnableImageDeprecation and shows it as DeprecationTime until disabled', async () => {
    const imageId = await registerImage('us-east-1', 'deprecate-me');
    const deprecateAt = new Date(Date.now() + 30 * 86_400_000);
    deprecateAt.setUTCMilliseconds(0);
    const { Return } = await ec2('us-east-1').send(
      new EnableImageDeprecationCommand({ ImageId: imageId, DeprecateAt: deprecateAt }),
    );
    assert.equal(Return, true);
    assert.equal(shim.deprecations.get(`us-east-1/${imageId}`), deprecateAt.toISOString());
    assert.equal((await describeImage('us-east-1', imageId)).DeprecationTime, deprecateAt.toISOString());

    await ec2('us-east-1').send(new DisableImageDeprecationCommand({ ImageId: imageId }));
    assert.equal((await describeImage('us-east-1', imageId)).DeprecationTime, undefined);
  });

  test('refuses a DeprecateAt in the past and an image that does not exist', async () => {
    const imageId = await registerImage('us-east-1', 'deprecate-past');
    const yesterday = new Date(Date.now() - 86_400_000);
    await assert.rejects(
      ec2('us-east-1').send(new EnableImageDeprecationCommand({ ImageId: imageId, DeprecateAt: yesterday })),
      errorName('InvalidParameterValue'),
    );
    await assert.rejects(
      ec2('eu-west-1').send(
        new EnableImageDeprecationCommand({
          ImageId: imageId,
          DeprecateAt: new Date(Date.now() + 86_400_000),
        }),
      ),
      errorName('InvalidAMIID.NotFound'),
      'the image lives in us-east-1 only',
    );
    assert.equal(shim.deprecations.has(`us-east-1/${imageId}`), false);
  });

  test('RegisterImage records what we sent, applies TagSpecifications and refuses a duplicate name', async () => {
    const client = ec2('us-east-1');
    const { VolumeId } = await client.send(
      new CreateVolumeCommand({ AvailabilityZone: 'us-east-1a', Size: 1 }),
    );
    const { SnapshotId } = await client.send(new CreateSnapshotCommand({ VolumeId }));
    const { ImageId } = await client.send(
      new RegisterImageCommand({
        Name: 'sles-16-v20260101',
        Architecture: 'x86_64',
        RootDeviceName: '/dev/xvda',
        BlockDeviceMappings: [
          {
            DeviceName: '/dev/xvda',
            Ebs: { SnapshotId, VolumeSize: 10, VolumeType: 'gp3', DeleteOnTermination: true },
          },
        ],
        BootMode: 'uefi-preferred',
        EnaSupport: true,
        TpmSupport: 'v2.0',
        ImdsSupport: 'v2.0',
        BillingProducts: ['bp-6ba54002'],
        VirtualizationType: 'hvm',
        TagSpecifications: [{ ResourceType: 'image', Tags: [{ Key: 'release', Value: '20260101' }] }],
      }),
    );
    const sent = shim.calls('RegisterImage').at(-1)!;
    assert.equal(sent.region, 'us-east-1');
    assert.deepEqual(
      [
        sent.params.BootMode,
        sent.params.EnaSupport,
        sent.params.TpmSupport,
        sent.params.ImdsSupport,
        sent.params['BillingProduct.1'],
      ],
      ['uefi-preferred', 'true', 'v2.0', 'v2.0', 'bp-6ba54002'],
    );
    assert.equal(sent.params['BlockDeviceMapping.1.Ebs.SnapshotId'], SnapshotId);
    assert.deepEqual((await describeImage('us-east-1', ImageId!)).Tags, [
      { Key: 'release', Value: '20260101' },
    ]);

    await assert.rejects(
      client.send(new RegisterImageCommand({ Name: 'sles-16-v20260101', RootDeviceName: '/dev/xvda' })),
      errorName('InvalidAMIName.Duplicate', new RegExp(`already in use by AMI ${ImageId}`)),
    );
  });

  test('CopyImage with the same ClientToken returns the first copy and copies tags', async () => {
    const source = await registerImage('us-east-1', 'copy-source', [{ Key: 'product', Value: 'sles' }]);
    const copy = () =>
      ec2('eu-west-1').send(
        new CopyImageCommand({
          Name: 'copy-source',
          SourceImageId: source,
          SourceRegion: 'us-east-1',
          ClientToken: 'release-42-eu-west-1',
          CopyImageTags: true,
          TagSpecifications: [{ ResourceType: 'image', Tags: [{ Key: 'copied', Value: 'yes' }] }],
        }),
      );
    const first = await copy();
    const second = await copy();
    assert.equal(second.ImageId, first.ImageId);
    assert.equal(shim.calls('CopyImage').at(-1)!.region, 'eu-west-1');

    const { Images } = await ec2('eu-west-1').send(
      new DescribeImagesCommand({ Owners: ['self'], Filters: [{ Name: 'name', Values: ['copy-source'] }] }),
    );
    assert.equal(Images?.length, 1, 'one copy only');
    const tags = Object.fromEntries((Images[0]!.Tags ?? []).map((t) => [t.Key, t.Value]));
    assert.deepEqual(tags, { product: 'sles', copied: 'yes' });
  });

  describe('ImportSnapshot from S3', () => {
    // 3 MiB: data, a zero MiB (a hole AWS does not store), data.
    const disk = Buffer.concat([randomBytes(MiB), Buffer.alloc(MiB), randomBytes(MiB)]);
    before(async () => {
      await s3().send(new CreateBucketCommand({ Bucket: 'uploads' }));
      await s3().send(new PutObjectCommand({ Bucket: 'uploads', Key: 'images/disk.raw', Body: disk }));
    });

    test('imports a RAW object into a snapshot holding only its non-zero blocks', async () => {
      const client = ec2('us-east-1');
      const { ImportTaskId, SnapshotTaskDetail } = await client.send(
        new ImportSnapshotCommand({
          Description: 'sles-16 upload',
          DiskContainer: { Format: 'RAW', UserBucket: { S3Bucket: 'uploads', S3Key: 'images/disk.raw' } },
          TagSpecifications: [
            { ResourceType: 'import-snapshot-task', Tags: [{ Key: 'release', Value: '20260101' }] },
          ],
        }),
      );
      assert.match(ImportTaskId!, /^import-snap-[0-9a-f]{17}$/);
      assert.equal(SnapshotTaskDetail?.Status, 'active');

      await waitUntilSnapshotImported(
        { client, maxWaitTime: 30, minDelay: 1, maxDelay: 1 },
        { ImportTaskIds: [ImportTaskId!] },
      );
      const { ImportSnapshotTasks } = await client.send(
        new DescribeImportSnapshotTasksCommand({ ImportTaskIds: [ImportTaskId!] }),
      );
      const task = ImportSnapshotTasks?.[0];
      assert.equal(task?.SnapshotTaskDetail?.Status, 'completed');
      assert.equal(task.SnapshotTaskDetail.DiskImageSize, 3 * MiB);
      assert.equal(task.SnapshotTaskDetail.Format, 'RAW');
      assert.deepEqual(task.SnapshotTaskDetail.UserBucket, { S3Bucket: 'uploads', S3Key: 'images/disk.raw' });
      assert.deepEqual(task.Tags, [{ Key: 'release', Value: '20260101' }]);

      const snapshotId = task.SnapshotTaskDetail.SnapshotId!;
      const { Snapshots } = await client.send(new DescribeSnapshotsCommand({ SnapshotIds: [snapshotId] }));
      assert.equal(Snapshots?.[0]?.VolumeSize, 1);
      assert.deepEqual(Snapshots[0].Tags, [{ Key: 'release', Value: '20260101' }]);
      const { Blocks } = await ebs().send(new ListSnapshotBlocksCommand({ SnapshotId: snapshotId }));
      assert.deepEqual(
        Blocks?.map((b) => b.BlockIndex),
        [0, 1, 4, 5],
      );
      const block4 = await ebs().send(
        new GetSnapshotBlockCommand({
          SnapshotId: snapshotId,
          BlockIndex: 4,
          BlockToken: Blocks[2]!.BlockToken,
        }),
      );
      assert.ok(
        Buffer.from(await block4.BlockData!.transformToByteArray()).equals(
          disk.subarray(4 * BLOCK, 5 * BLOCK),
        ),
      );
    });

    test('ends a task for a missing object as deleted with a reason, and refuses non-RAW formats', async () => {
      const client = ec2('us-east-1');
      const { ImportTaskId } = await client.send(
        new ImportSnapshotCommand({
          DiskContainer: { Format: 'RAW', UserBucket: { S3Bucket: 'uploads', S3Key: 'missing.raw' } },
        }),
      );
      let detail;
      do {
        await new Promise((r) => setTimeout(r, 50));
        const { ImportSnapshotTasks } = await client.send(
          new DescribeImportSnapshotTasksCommand({ ImportTaskIds: [ImportTaskId!] }),
        );
        detail = ImportSnapshotTasks?.[0]?.SnapshotTaskDetail;
      } while (detail?.Status === 'active');
      assert.equal(detail?.Status, 'deleted');
      assert.match(detail.StatusMessage ?? '', /missing\.raw/);

      await assert.rejects(
        client.send(
          new ImportSnapshotCommand({
            DiskContainer: { Format: 'VMDK', UserBucket: { S3Bucket: 'uploads', S3Key: 'images/disk.raw' } },
          }),
        ),
        errorName('InvalidParameter'),
      );
    });
  });

  test('passes EBS direct requests through unchanged, binary bodies included', async () => {
    const before = shim.calls().length;
    const client = ebs();
    const { SnapshotId } = await client.send(new StartSnapshotCommand({ VolumeSize: 1 }));
    const data = randomBytes(BLOCK);
    await client.send(
      new PutSnapshotBlockCommand({
        SnapshotId,
        BlockIndex: 7,
        BlockData: data,
        DataLength: BLOCK,
        Checksum: createHash('sha256').update(data).digest('base64'),
        ChecksumAlgorithm: 'SHA256',
      }),
    );
    await client.send(new CompleteSnapshotCommand({ SnapshotId, ChangedBlocksCount: 1 }));
    const { Blocks } = await client.send(new ListSnapshotBlocksCommand({ SnapshotId }));
    assert.deepEqual(
      Blocks?.map((b) => b.BlockIndex),
      [7],
    );
    const got = await client.send(
      new GetSnapshotBlockCommand({ SnapshotId, BlockIndex: 7, BlockToken: Blocks[0]!.BlockToken }),
    );
    assert.ok(
      Buffer.from(await got.BlockData!.transformToByteArray()).equals(data),
      'the block came back byte for byte',
    );
    const rest = shim
      .calls()
      .slice(before)
      .map((c) => c.action.replace(/snap-[0-9a-f]+/, 'SNAP'));
    assert.ok(rest.includes('POST /snapshots') && rest.includes('PUT /snapshots/SNAP/blocks/7'), rest.join());
    assert.ok(
      rest.every((a) => /^(GET|POST|PUT) \//.test(a)),
      'EBS direct calls are recorded as METHOD /path, not as EC2 Query actions',
    );
  });
});
