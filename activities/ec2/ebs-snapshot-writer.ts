import { createHash } from 'node:crypto';
import { CompleteSnapshotCommand, PutSnapshotBlockCommand, StartSnapshotCommand } from '@aws-sdk/client-ebs';
import {
  CreateTagsCommand,
  DeleteSnapshotCommand,
  DescribeSnapshotsCommand,
  type Snapshot,
} from '@aws-sdk/client-ec2';
import type { Ec2ImageOptions } from '../../schemas/release-plan.js';
import { nonRetryable } from '../common/errors.js';
import type { DiskWriter, OpenDiskWriterInput, UploadedDisk } from '../provider.js';
import { aws, awsErrorCode } from './aws-errors.js';
import type { AwsClients } from './sessions.js';
import { byReleaseToken, releaseTags, TAG, tagValue } from './tags.js';

/** EBS direct APIs write snapshots in blocks of exactly 512 KiB. */
export const EBS_BLOCK = 512 * 1024;
const GiB = 1024 ** 3;
/** Parallel PutSnapshotBlock calls: AWS serves each at ~10-50 ms; 16 keep a 1 Gbit/s link busy. */
const PARALLEL_PUTS = 16;
/** How long a started snapshot stays writable: long enough for a resumed multi-hour upload. */
const SNAPSHOT_TIMEOUT_MINUTES = 24 * 60;

export function ec2Options(input: { options?: OpenDiskWriterInput['options'] }): Ec2ImageOptions {
  const options = input.options;
  if (options?.cloud !== 'ec2') throw new Error('an EC2 step was called without EC2 image options');
  return options;
}

/**
 * Writes the disk straight into an EBS snapshot (StartSnapshot / PutSnapshotBlock /
 * CompleteSnapshot): no S3 object, no import task, no helper instance. All-zero blocks are
 * never sent (an unwritten block of a new snapshot reads as zeros).
 *
 * The snapshot carries the run's token, so a retry finds it: with a resume offset it keeps
 * writing into it; without one, any snapshot an earlier attempt left is deleted and a new
 * one started, so a release never leaves two. The checksum tag, set after completion,
 * marks the upload as finished.
 */
export async function openEbsSnapshotWriter(
  clients: AwsClients,
  input: OpenDiskWriterInput,
): Promise<DiskWriter> {
  const { release, region, checksum } = input;
  const options = ec2Options(input);
  const volumeBytes = options.rootVolumeSizeGiB * GiB;
  if (input.diskSizeBytes !== undefined && input.diskSizeBytes > volumeBytes) {
    throw tooLarge(input.diskSizeBytes, options.rootVolumeSizeGiB);
  }
  const { ebs, ec2 } = clients;

  const earlier = await snapshotsOfRun(clients, input);
  const resumable =
    input.resumeFromOffset > 0 ? earlier.find((s) => !tagValue(s.Tags, TAG.checksum)) : undefined;
  await Promise.all(
    earlier.filter((s) => s !== resumable).map((s) => deleteSnapshot(clients, s.SnapshotId!)),
  );

  let snapshotId = resumable?.SnapshotId;
  if (!snapshotId) {
    const started = await aws('StartSnapshot', () =>
      ebs.send(
        new StartSnapshotCommand({
          VolumeSize: options.rootVolumeSizeGiB,
          Description: `imagecast ${release.releaseId}`.slice(0, 255),
          Tags: releaseTags(release),
          Timeout: SNAPSHOT_TIMEOUT_MINUTES,
          // AWS answers a repeated StartSnapshot with the same token with the same snapshot.
          ClientToken: clientToken(release.releaseToken, region, 'upload'),
        }),
      ),
    );
    snapshotId = started.SnapshotId!;
  }
  const id = snapshotId;

  return {
    blockSize: EBS_BLOCK,
    maxConcurrentWrites: PARALLEL_PUTS,
    zeroBlocksMayBeSkipped: true,
    resumeOffset: resumable ? input.resumeFromOffset : 0,

    async writeBlock(offset, block) {
      if (offset + block.length > volumeBytes)
        throw tooLarge(offset + block.length, options.rootVolumeSizeGiB);
      // Every block is 512 KiB, the last one too: pad it with zeros.
      const data =
        block.length === EBS_BLOCK ? block : Buffer.concat([block, Buffer.alloc(EBS_BLOCK - block.length)]);
      await aws('PutSnapshotBlock', () =>
        ebs.send(
          new PutSnapshotBlockCommand({
            SnapshotId: id,
            BlockIndex: offset / EBS_BLOCK,
            BlockData: data,
            DataLength: EBS_BLOCK,
            Checksum: createHash('sha256').update(data).digest('base64'),
            ChecksumAlgorithm: 'SHA256',
          }),
        ),
      );
    },

    async commit(sizeBytes, bytesWritten, verified = checksum): Promise<UploadedDisk> {
      await aws('CompleteSnapshot', () =>
        ebs.send(
          new CompleteSnapshotCommand({
            SnapshotId: id,
            ChangedBlocksCount: Math.ceil(bytesWritten / EBS_BLOCK),
          }),
        ),
      );
      // The transfer's checksum: a source that published none has it only now.
      const sum = `${verified.algorithm}:${verified.hex}`;
      await aws('CreateTags', () =>
        ec2.send(new CreateTagsCommand({ Resources: [id], Tags: [{ Key: TAG.checksum, Value: sum }] })),
      );
      return { region, diskId: id, sizeBytes, bytesWritten, checksum: verified };
    },

    async abort() {
      await deleteSnapshot(clients, id);
    },
  };
}

async function snapshotsOfRun(clients: AwsClients, input: OpenDiskWriterInput): Promise<Snapshot[]> {
  const { Snapshots } = await aws('DescribeSnapshots', () =>
    clients.ec2.send(
      new DescribeSnapshotsCommand({ OwnerIds: ['self'], Filters: byReleaseToken(input.release) }),
    ),
  );
  return Snapshots ?? [];
}

/** Deletes a snapshot; one already gone is fine. */
export async function deleteSnapshot(clients: AwsClients, snapshotId: string): Promise<void> {
  try {
    await clients.ec2.send(new DeleteSnapshotCommand({ SnapshotId: snapshotId }));
  } catch (error) {
    if (awsErrorCode(error) === 'InvalidSnapshot.NotFound') return;
    throw await aws('DeleteSnapshot', () => Promise.reject(error)).catch((e: unknown) => e);
  }
}

/** An idempotency token AWS accepts (≤ 64 ASCII characters), the same for every retry of one step. */
export function clientToken(releaseToken: string, region: string, step: string): string {
  return createHash('sha256').update(`${releaseToken}/${region}/${step}`).digest('hex').slice(0, 64);
}

function tooLarge(bytes: number, rootVolumeSizeGiB: number) {
  return nonRetryable(
    'CloudInvalidRequest',
    `the disk is larger than root_volume_size (${rootVolumeSizeGiB} GiB): at least ${Math.ceil(bytes / GiB)} GiB; raise root_volume_size in the job`,
  );
}
