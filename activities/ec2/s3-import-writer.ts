import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  ListMultipartUploadsCommand,
  ListObjectsV2Command,
  ListPartsCommand,
  UploadPartCommand,
  type _Object,
  type MultipartUpload,
  type Part,
} from '@aws-sdk/client-s3';
import {
  CreateTagsCommand,
  DescribeImportSnapshotTasksCommand,
  DescribeSnapshotsCommand,
  ImportSnapshotCommand,
  type SnapshotTaskDetail,
} from '@aws-sdk/client-ec2';
import { nonRetryable } from '../common/errors.js';
import { activitySignal } from '../common/activity-heartbeat.js';
import type { DiskWriter, OpenDiskWriterInput, ReleaseRef, UploadedDisk } from '../provider.js';
import { aws, failureAwsCode } from './aws-errors.js';
import { clientToken, deleteSnapshot, ec2Options } from './ebs-snapshot-writer.js';
import type { WaitSettings } from './images.js';
import type { AwsClients } from './sessions.js';
import { byReleaseToken, releaseTags } from './tags.js';

const MiB = 1024 ** 2;
const GiB = 1024 ** 3;
/** S3 allows 10 000 parts per upload; each but the last at least 5 MiB. */
const MAX_PARTS = 10_000;
/** 16 MiB parts keep a 160 GiB disk within 10 000 parts; bigger disks get bigger parts. */
const MIN_PART = 16 * MiB;
/** Parts in flight: 4 × 16 MiB keeps memory bounded and a fast link busy. */
const PARALLEL_PARTS = 4;
/**
 * Where a run stages its disk for import: under the run's token and the region, one object
 * per upload attempt (the random name in the key is the import's idempotency key, so it
 * is found again with the object).
 */
export function importPrefix(release: ReleaseRef, region?: string): string {
  return `imagecast-import/${release.releaseToken}/${region ? `${region}/` : ''}`;
}

/** The part size for a volume: the smallest MiB multiple ≥ 16 MiB that fits in 10 000 parts. */
export function importPartSize(volumeBytes: number): number {
  return Math.max(MIN_PART, Math.ceil(volumeBytes / MAX_PARTS / MiB) * MiB);
}

/**
 * The alternative to EBS direct for accounts that cannot use it: the raw disk goes into the
 * account's `import_bucket` as an S3 multipart upload (one part per block, any order, so
 * the transfer's parallel writes and Range resume work as they do for EBS), then
 * ImportSnapshot turns the object into a snapshot and the object is deleted.
 *
 * S3 objects are not sparse, so zero blocks are sent too. lib-storage's `Upload` is not used:
 * it streams in order and cannot continue an earlier attempt's upload, which this writer
 * does from the parts S3 already holds.
 *
 * A retry finds its earlier attempt by the object key (the run's token and the region): an
 * unfinished multipart upload holding every part below the resume offset is continued; an
 * object already complete (the attempt died while the import ran) is imported again with
 * the same client token, which AWS answers with the same import task; anything else is
 * removed and the upload starts over.
 */
export async function openS3ImportWriter(
  clients: AwsClients,
  input: OpenDiskWriterInput,
  wait: WaitSettings,
): Promise<DiskWriter> {
  const { release, region, checksum } = input;
  const options = ec2Options(input);
  const bucket = clients.account.import_bucket;
  if (!bucket) {
    throw nonRetryable(
      'InvalidJob',
      `account "${clients.account.name}" has no import_bucket: upload_method s3_import needs an S3 bucket in ${region}`,
    );
  }
  const volumeBytes = options.rootVolumeSizeGiB * GiB;
  if (input.diskSizeBytes !== undefined && input.diskSizeBytes > volumeBytes) {
    throw tooLarge(input.diskSizeBytes, options.rootVolumeSizeGiB);
  }
  const { s3, ec2 } = clients;
  const partSize = importPartSize(volumeBytes);
  const prefix = importPrefix(release, region);

  const earlier = await findEarlierAttempt(clients, bucket, prefix, input.resumeFromOffset, partSize);
  let staged: { key: string; uploadId?: string };
  if (earlier) {
    staged = earlier;
  } else {
    await removeStaged(clients, bucket, prefix);
    // A dead attempt's import may have made a snapshot in this region: it would be left behind.
    await deleteRunSnapshots(clients, release);
    const key = `${prefix}${randomUUID()}.raw`;
    const created = await aws('CreateMultipartUpload', () =>
      s3.send(
        new CreateMultipartUploadCommand({ Bucket: bucket, Key: key, ContentType: 'application/octet-stream' }),
      ),
    );
    staged = { key, uploadId: created.UploadId! };
  }
  const { key, uploadId } = staged;
  const at = `s3://${bucket}/${key}`;

  return {
    blockSize: partSize,
    maxConcurrentWrites: PARALLEL_PARTS,
    zeroBlocksMayBeSkipped: false,
    resumeOffset: earlier ? input.resumeFromOffset : 0,

    async writeBlock(offset, block) {
      if (offset + block.length > volumeBytes) throw tooLarge(offset + block.length, options.rootVolumeSizeGiB);
      if (!uploadId) throw new Error(`${at} is complete already; no part can be added to it`);
      await aws('UploadPart', () =>
        s3.send(
          new UploadPartCommand({
            Bucket: bucket,
            Key: key,
            UploadId: uploadId,
            PartNumber: offset / partSize + 1,
            Body: block,
            ContentLength: block.length,
          }),
        ),
      );
    },

    async commit(sizeBytes, bytesWritten): Promise<UploadedDisk> {
      if (uploadId) {
        const parts = await listParts(clients, bucket, key, uploadId);
        const expected = Math.max(1, Math.ceil(sizeBytes / partSize));
        if (parts.length !== expected) {
          throw new Error(`${at}: S3 holds ${parts.length} of ${expected} parts; the upload must run again`);
        }
        await aws('CompleteMultipartUpload', () =>
          s3.send(
            new CompleteMultipartUploadCommand({
              Bucket: bucket,
              Key: key,
              UploadId: uploadId,
              MultipartUpload: { Parts: parts.map(({ PartNumber, ETag }) => ({ PartNumber, ETag })) },
            }),
          ),
        );
      }
      const snapshotId = await importSnapshot(clients, { bucket, key, release, region }, wait);
      await aws('CreateTags', () =>
        ec2.send(
          new CreateTagsCommand({
            Resources: [snapshotId],
            Tags: releaseTags(release, `${checksum.algorithm}:${checksum.hex}`),
          }),
        ),
      );
      // The object was only the way in; the snapshot is the disk now.
      await removeStaged(clients, bucket, prefix);
      return { region, diskId: snapshotId, sizeBytes, bytesWritten, checksum };
    },

    async abort() {
      await removeStaged(clients, bucket, prefix);
    },
  };
}

/**
 * What an earlier attempt left that this one can build on: the finished object when it is
 * exactly `resumeFrom` long (the attempt died during the import), or an unfinished
 * multipart upload holding every part below `resumeFrom`.
 */
async function findEarlierAttempt(
  clients: AwsClients,
  bucket: string,
  prefix: string,
  resumeFrom: number,
  partSize: number,
): Promise<{ key: string; uploadId?: string } | undefined> {
  if (resumeFrom <= 0) return undefined;
  const finished = (await objectsUnder(clients, bucket, prefix)).find((o) => o.Size === resumeFrom);
  if (finished) return { key: finished.Key! };
  if (resumeFrom % partSize !== 0) return undefined;
  for (const upload of await uploadsUnder(clients, bucket, prefix)) {
    const parts = await listParts(clients, bucket, upload.Key!, upload.UploadId!);
    const whole = new Set(parts.filter((p) => p.Size === partSize).map((p) => p.PartNumber));
    let held = 0;
    while (whole.has(held + 1)) held++;
    if (held * partSize >= resumeFrom) return { key: upload.Key!, uploadId: upload.UploadId! };
  }
  return undefined;
}

interface ImportRequest {
  bucket: string;
  key: string;
  release: ReleaseRef;
  region: string;
}

/**
 * ImportSnapshot of the staged object, waited for until the snapshot exists. The client
 * token comes from the object's key, which is new for every upload: the same object is
 * imported once however often the attempt that finished uploading it is retried.
 */
async function importSnapshot(clients: AwsClients, request: ImportRequest, wait: WaitSettings): Promise<string> {
  const { bucket, key, release, region } = request;
  const description = `imagecast ${release.releaseId}`.slice(0, 255);
  const started = await aws('ImportSnapshot', () =>
    clients.ec2.send(
      new ImportSnapshotCommand({
        Description: description,
        DiskContainer: { Format: 'RAW', Description: description, UserBucket: { S3Bucket: bucket, S3Key: key } },
        ClientToken: clientToken(release.releaseToken, region, `import/${key}`),
        TagSpecifications: [{ ResourceType: 'import-snapshot-task', Tags: releaseTags(release) }],
      }),
    ),
  );
  const taskId = started.ImportTaskId!;
  for (let detail = started.SnapshotTaskDetail; ; detail = await describeImportTask(clients, taskId)) {
    if (detail?.Status === 'completed' && detail.SnapshotId) return detail.SnapshotId;
    if (detail?.Status === 'deleting' || detail?.Status === 'deleted') {
      throw nonRetryable(
        'CloudInvalidRequest',
        `EC2 ImportSnapshot ${taskId} of s3://${bucket}/${key} failed: ${detail.StatusMessage ?? 'no reason given'} — check that the image is a raw disk and that the vmimport service role may read the bucket`,
      );
    }
    await sleep(wait.pollMs, undefined, { signal: activitySignal() });
  }
}

async function describeImportTask(clients: AwsClients, taskId: string): Promise<SnapshotTaskDetail | undefined> {
  const { ImportSnapshotTasks } = await aws('DescribeImportSnapshotTasks', () =>
    clients.ec2.send(new DescribeImportSnapshotTasksCommand({ ImportTaskIds: [taskId] })),
  );
  return ImportSnapshotTasks?.[0]?.SnapshotTaskDetail;
}

async function objectsUnder(clients: AwsClients, bucket: string, prefix: string): Promise<_Object[]> {
  const objects: _Object[] = [];
  let token: string | undefined;
  do {
    const page = await aws('ListObjectsV2', () =>
      clients.s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token })),
    );
    objects.push(...(page.Contents ?? []));
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
  return objects;
}

async function uploadsUnder(clients: AwsClients, bucket: string, prefix: string): Promise<MultipartUpload[]> {
  const uploads: MultipartUpload[] = [];
  let keyMarker: string | undefined;
  let uploadIdMarker: string | undefined;
  do {
    const page = await aws('ListMultipartUploads', () =>
      clients.s3.send(
        new ListMultipartUploadsCommand({
          Bucket: bucket,
          Prefix: prefix,
          KeyMarker: keyMarker,
          UploadIdMarker: uploadIdMarker,
        }),
      ),
    );
    uploads.push(...(page.Uploads ?? []));
    keyMarker = page.IsTruncated ? page.NextKeyMarker : undefined;
    uploadIdMarker = page.IsTruncated ? page.NextUploadIdMarker : undefined;
  } while (keyMarker);
  return uploads;
}

async function listParts(clients: AwsClients, bucket: string, key: string, uploadId: string): Promise<Part[]> {
  const parts: Part[] = [];
  let marker: string | undefined;
  do {
    const page = await aws('ListParts', () =>
      clients.s3.send(new ListPartsCommand({ Bucket: bucket, Key: key, UploadId: uploadId, PartNumberMarker: marker })),
    );
    parts.push(...(page.Parts ?? []));
    marker = page.IsTruncated ? page.NextPartNumberMarker : undefined;
  } while (marker);
  return parts.sort((a, b) => a.PartNumber! - b.PartNumber!);
}

/** Aborts the unfinished uploads and deletes the objects under `prefix`. */
async function removeStaged(clients: AwsClients, bucket: string, prefix: string): Promise<void> {
  for (const upload of await uploadsUnder(clients, bucket, prefix)) {
    await aws('AbortMultipartUpload', () =>
      clients.s3.send(
        new AbortMultipartUploadCommand({ Bucket: bucket, Key: upload.Key!, UploadId: upload.UploadId! }),
      ),
    ).catch((error: unknown) => {
      if (failureAwsCode(error) !== 'NoSuchUpload') throw error;
    });
  }
  for (const object of await objectsUnder(clients, bucket, prefix)) {
    await aws('DeleteObject', () => clients.s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: object.Key! })));
  }
}

async function deleteRunSnapshots(clients: AwsClients, release: ReleaseRef): Promise<void> {
  const { Snapshots } = await aws('DescribeSnapshots', () =>
    clients.ec2.send(new DescribeSnapshotsCommand({ OwnerIds: ['self'], Filters: byReleaseToken(release) })),
  );
  for (const snapshot of Snapshots ?? []) await deleteSnapshot(clients, snapshot.SnapshotId!);
}

/**
 * The saga's part: every staged object and unfinished upload of the run, in any region, goes.
 * A bucket that is gone holds nothing to remove.
 */
export async function discardImportStaging(clients: AwsClients, release: ReleaseRef): Promise<void> {
  const bucket = clients.account.import_bucket;
  if (!bucket) return;
  try {
    await removeStaged(clients, bucket, importPrefix(release, clients.region));
  } catch (error) {
    if (failureAwsCode(error) !== 'NoSuchBucket') throw error;
  }
}

function tooLarge(bytes: number, rootVolumeSizeGiB: number) {
  return nonRetryable(
    'CloudInvalidRequest',
    `the disk is larger than root_volume_size (${rootVolumeSizeGiB} GiB): at least ${Math.ceil(bytes / GiB)} GiB; raise root_volume_size in the job`,
  );
}
