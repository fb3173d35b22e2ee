// The s3_import upload path against moto (S3, EBS) behind our shim, which implements
// ImportSnapshot / DescribeImportSnapshotTasks (moto has neither) with the EC2 Query API's
// documented shapes: https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_ImportSnapshot.html
// and .../API_DescribeImportSnapshotTasks.html. The shim's import reads the object from moto's
// S3 and writes it into a moto snapshot, so the bytes are checked end to end.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import {
  CreateBucketCommand,
  ListMultipartUploadsCommand,
  ListObjectsV2Command,
  S3Client,
} from '@aws-sdk/client-s3';
import { EBSClient, GetSnapshotBlockCommand, ListSnapshotBlocksCommand } from '@aws-sdk/client-ebs';
import { DescribeSnapshotsCommand } from '@aws-sdk/client-ec2';
import { startAwsEmulator, TEST_KEYS, type AwsEmulator } from '../../support/aws-emulator.js';
import type { Ec2ImageOptions } from '../../../schemas/release-plan.js';
import type { OpenDiskWriterInput, ReleaseRef } from '../../../activities/provider.js';
import { importPrefix } from '../../../activities/ec2/s3-import-writer.js';
import { EBS_BLOCK } from '../../../activities/ec2/ebs-snapshot-writer.js';

const MiB = 1024 ** 2;
const REGION = 'us-east-1';
const BUCKET = 'imagecast-import-test';
const PART = 16 * MiB;

const options: Ec2ImageOptions = {
  cloud: 'ec2',
  uploadMethod: 's3_import',
  rootVolumeSizeGiB: 1,
  enaSupport: true,
  sriovSupport: true,
  billingCodes: [],
  copyPermission: 'none',
};

/** 40 MiB: random data, 16 MiB of zeros, random data: three parts (16, 16, 8 MiB). */
function testDisk(): Buffer {
  return Buffer.concat([randomBytes(PART), Buffer.alloc(PART), randomBytes(8 * MiB)]);
}

function blocksOf(disk: Buffer): Array<[number, Buffer]> {
  const blocks: Array<[number, Buffer]> = [];
  for (let offset = 0; offset < disk.length; offset += PART) blocks.push([offset, disk.subarray(offset, offset + PART)]);
  return blocks;
}

describe('s3_import upload (S3 multipart + ImportSnapshot) against moto', () => {
  let aws: AwsEmulator;
  let s3: S3Client;
  let ebs: EBSClient;
  const credentials = { accessKeyId: TEST_KEYS.access_key_id, secretAccessKey: TEST_KEYS.secret_access_key };

  before(async () => {
    aws = await startAwsEmulator('s3-import', { upload_method: 's3_import', import_bucket: BUCKET });
    s3 = new S3Client({ region: REGION, endpoint: aws.endpoint, forcePathStyle: true, credentials });
    ebs = new EBSClient({ region: REGION, endpoint: aws.endpoint, credentials });
    await s3.send(new CreateBucketCommand({ Bucket: BUCKET }));
  });
  after(async () => {
    s3?.destroy();
    ebs?.destroy();
    await aws?.stop();
  });

  const newRelease = (): ReleaseRef => ({
    releaseId: 'import-test',
    releaseToken: randomUUID(),
    cloud: 'ec2',
    account: 'test-aws',
  });
  const writerInput = (release: ReleaseRef, disk: Buffer, resumeFromOffset = 0): OpenDiskWriterInput => ({
    release,
    region: REGION,
    checksum: { algorithm: 'sha256', hex: createHash('sha256').update(disk).digest('hex') },
    resumeFromOffset,
    diskSizeBytes: disk.length,
    options,
  });
  const staged = async (release: ReleaseRef) => {
    const prefix = importPrefix(release);
    const [objects, uploads] = await Promise.all([
      s3.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: prefix })),
      s3.send(new ListMultipartUploadsCommand({ Bucket: BUCKET, Prefix: prefix })),
    ]);
    return { objects: objects.Contents ?? [], uploads: uploads.Uploads ?? [] };
  };
  /** The snapshot's bytes, read back through moto's EBS direct API (absent blocks read as zeros). */
  const snapshotBytes = async (snapshotId: string, size: number): Promise<Buffer> => {
    const out = Buffer.alloc(size);
    // Blocks are 512 KiB (moto reports BlockSize 512, but stores what PutSnapshotBlock sent).
    const { Blocks } = await ebs.send(new ListSnapshotBlocksCommand({ SnapshotId: snapshotId }));
    for (const block of Blocks ?? []) {
      const got = await ebs.send(
        new GetSnapshotBlockCommand({ SnapshotId: snapshotId, BlockIndex: block.BlockIndex, BlockToken: block.BlockToken }),
      );
      const data = Buffer.from(await got.BlockData!.transformToByteArray());
      const at = block.BlockIndex! * EBS_BLOCK;
      if (at < size) data.copy(out, at, 0, Math.min(data.length, size - at));
    }
    return out;
  };
  const snapshotsOf = async (release: ReleaseRef) => {
    const { Snapshots } = await aws.ec2(REGION).send(
      new DescribeSnapshotsCommand({
        OwnerIds: ['self'],
        Filters: [{ Name: 'tag:imagecast:release-token', Values: [release.releaseToken] }],
      }),
    );
    return Snapshots ?? [];
  };

  it('uploads the parts in any order, imports the object into a snapshot holding every byte, and removes the object', async () => {
    const provider = aws.provider();
    const disk = testDisk();
    const release = newRelease();
    const writer = await provider.openDiskWriter(writerInput(release, disk));
    assert.equal(writer.blockSize, PART);
    assert.equal(writer.zeroBlocksMayBeSkipped, false, 'S3 objects are not sparse');
    for (const [offset, block] of blocksOf(disk).reverse()) await writer.writeBlock(offset, block);
    const imported = await writer.commit(disk.length, disk.length);

    assert.match(imported.diskId, /^snap-/);
    assert.ok((await snapshotBytes(imported.diskId, disk.length)).equals(disk), 'the snapshot holds the disk');
    const [snapshot] = await snapshotsOf(release);
    assert.equal(snapshot?.SnapshotId, imported.diskId);
    assert.equal(
      snapshot?.Tags?.find((t) => t.Key === 'imagecast:checksum')?.Value,
      `sha256:${imported.checksum.hex}`,
    );
    const [call] = aws.shim.calls('ImportSnapshot').slice(-1);
    assert.equal(call?.params['DiskContainer.Format'], 'RAW');
    assert.equal(call?.params['DiskContainer.UserBucket.S3Bucket'], BUCKET);
    assert.ok(call?.params['DiskContainer.UserBucket.S3Key']?.startsWith(importPrefix(release, REGION)));
    assert.ok(call?.params.ClientToken, 'the import is idempotent');
    assert.deepEqual(await staged(release), { objects: [], uploads: [] }, 'nothing left in the bucket');
  });

  it('tags the snapshot with the checksum the commit hands it (a source that published none: computed by the transfer)', async () => {
    const disk = testDisk();
    const release = newRelease();
    const unknown = { ...writerInput(release, disk), checksum: { algorithm: 'sha256' as const, hex: '' } };
    const writer = await aws.provider().openDiskWriter(unknown);
    for (const [offset, block] of blocksOf(disk)) await writer.writeBlock(offset, block);
    const computed = { algorithm: 'sha256' as const, hex: createHash('sha256').update(disk).digest('hex') };
    const imported = await writer.commit(disk.length, disk.length, computed);
    assert.deepEqual(imported.checksum, computed);
    const [snapshot] = await snapshotsOf(release);
    assert.equal(snapshot?.Tags?.find((t) => t.Key === 'imagecast:checksum')?.Value, `sha256:${computed.hex}`);
  });

  it('continues the multipart upload an earlier attempt left, and starts over when S3 does not hold the resume offset', async () => {
    const disk = testDisk();
    const release = newRelease();
    const first = await aws.provider().openDiskWriter(writerInput(release, disk));
    const [a, b, c] = blocksOf(disk);
    await first.writeBlock(...a!);
    await first.writeBlock(...b!);
    // The attempt dies here. Its heartbeat said 32 MiB were written; S3 holds them.
    const retry = await aws.provider().openDiskWriter(writerInput(release, disk, 2 * PART));
    assert.equal(retry.resumeOffset, 2 * PART);
    assert.equal((await staged(release)).uploads.length, 1, 'the same multipart upload');
    await retry.writeBlock(...c!);
    const imported = await retry.commit(disk.length, disk.length);
    assert.ok((await snapshotBytes(imported.diskId, disk.length)).equals(disk));
    assert.equal((await snapshotsOf(release)).length, 1);

    // A heartbeat further than S3 holds (the parts were lost): start over, nothing stale kept.
    const other = newRelease();
    const lost = await aws.provider().openDiskWriter(writerInput(other, disk));
    await lost.writeBlock(...a!);
    const again = await aws.provider().openDiskWriter(writerInput(other, disk, 2 * PART));
    assert.equal(again.resumeOffset, 0);
    assert.equal((await staged(other)).uploads.length, 1, 'the stale upload was aborted');
    await again.abort();
  });

  it('imports the finished object after an attempt died while importing, without uploading it again', async () => {
    const disk = testDisk();
    const release = newRelease();
    aws.shim.inject({ action: 'ImportSnapshot', code: 'InternalError', message: 'injected', status: 500 });
    const first = await createProviderWithoutRetries(aws).openDiskWriter(writerInput(release, disk));
    for (const [offset, block] of blocksOf(disk)) await first.writeBlock(offset, block);
    await assert.rejects(first.commit(disk.length, disk.length), /InternalError|injected/);
    assert.equal((await staged(release)).objects.length, 1, 'the object is complete in S3');

    const putsBefore = aws.shim.calls().filter((c) => c.action.startsWith('PUT /')).length;
    const retry = await aws.provider().openDiskWriter(writerInput(release, disk, disk.length));
    assert.equal(retry.resumeOffset, disk.length);
    const imported = await retry.commit(disk.length, disk.length);
    assert.equal(aws.shim.calls().filter((c) => c.action.startsWith('PUT /')).length, putsBefore, 'no part sent again');
    assert.ok((await snapshotBytes(imported.diskId, disk.length)).equals(disk));
    assert.equal((await snapshotsOf(release)).length, 1);
  });

  it('leaves nothing staged when the saga discards the run', async () => {
    const disk = testDisk();
    const release = newRelease();
    const provider = aws.provider();
    const writer = await provider.openDiskWriter(writerInput(release, disk));
    await writer.writeBlock(...blocksOf(disk)[0]!);
    assert.equal((await staged(release)).uploads.length, 1);
    await provider.discardReleaseArtifacts(release, [REGION, 'eu-west-1']);
    assert.deepEqual(await staged(release), { objects: [], uploads: [] });
  });
});

/** The provider with one SDK attempt per call, so an injected 500 reaches the caller. */
function createProviderWithoutRetries(aws: AwsEmulator) {
  return aws.provider({ maxAttempts: 1 });
}
