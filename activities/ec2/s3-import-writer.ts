import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  DeleteObjectCommand,
  ListMultipartUploadsCommand,
  ListObjectsV2Command,
  type _Object,
  type MultipartUpload,
} from '@aws-sdk/client-s3';
import {
  CreateTagsCommand,
  DescribeImportSnapshotTasksCommand,
  DescribeSnapshotsCommand,
  ImportSnapshotCommand,
  type SnapshotTaskDetail,
} from '@aws-sdk/client-ec2';
import { nonRetryable } from '../common/errors.js';
import { multipartPartSize, PARALLEL_PARTS, S3Multipart } from '../common/transfer/s3-multipart-writer.js';
import { activitySignal } from '../common/activity-heartbeat.js';
import type { DiskWriter, OpenDiskWriterInput, ReleaseRef, UploadedDisk } from '../provider.js';
import { aws, failureAwsCode } from './aws-errors.js';
import { clientToken, deleteSnapshot, ec2Options } from './ebs-snapshot-writer.js';
import type { WaitSettings } from './images.js';
import type { AwsClients } from './sessions.js';
import { byReleaseToken, releaseTags } from './tags.js';

const GiB = 1024 ** 3;
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
  return multipartPartSize(volumeBytes);
}

/**
 * The alternative to EBS direct for accounts that cannot use it: the raw disk goes into the
 * account's `import_bucket` as an S3 multipart upload (one part per block, any order, so
 * the transfer's parallel writes and Range resume work as they do for EBS), then
 * ImportSnapshot turns the object into a snapshot and the object is deleted.
 *
 * The multipart upload itself is transfer/s3-multipart-writer.ts (shared with the raw image
 * upload): parts in any order, zero blocks sent too, continued from the parts S3 holds.
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
  const { ec2 } = clients;
  const multipart = new S3Multipart(clients.s3, aws);
  const partSize = importPartSize(volumeBytes);
  const prefix = importPrefix(release, region);

  const earlier = await findEarlierAttempt(clients, multipart, bucket, prefix, input.resumeFromOffset, partSize);
  let staged: { key: string; uploadId?: string };
  if (earlier) {
    staged = earlier;
  } else {
    await removeStaged(clients, bucket, prefix);
    // A dead attempt's import may have made a snapshot in this region: it would be left behind.
    await deleteRunSnapshots(clients, release);
    const key = `${prefix}${randomUUID()}.raw`;
    const created = await multipart.create({ Bucket: bucket, Key: key, ContentType: 'application/octet-stream' });
    staged = { key, uploadId: created.uploadId };
  }
  const { key, uploadId } = staged;
  const at = `s3://${bucket}/${key}`;
  const upload = uploadId ? { bucket, key, uploadId } : undefined;
  const parts = upload && multipart.partWriter(upload, partSize);

  return {
    blockSize: partSize,
    maxConcurrentWrites: PARALLEL_PARTS,
    zeroBlocksMayBeSkipped: false,
    resumeOffset: earlier ? input.resumeFromOffset : 0,

    async writeBlock(offset, block) {
      if (offset + block.length > volumeBytes) throw tooLarge(offset + block.length, options.rootVolumeSizeGiB);
      if (!parts) throw new Error(`${at} is complete already; no part can be added to it`);
      await parts.writeBlock(offset, block);
    },

    async commit(sizeBytes, bytesWritten, verified = checksum): Promise<UploadedDisk> {
      if (upload) await multipart.complete(upload, partSize, sizeBytes);
      const snapshotId = await importSnapshot(clients, { bucket, key, release, region }, wait);
      await aws('CreateTags', () =>
        ec2.send(
          new CreateTagsCommand({
            Resources: [snapshotId],
            // The transfer's checksum: a source that published none has it only now.
            Tags: releaseTags(release, `${verified.algorithm}:${verified.hex}`),
          }),
        ),
      );
      // The object was only the way in; the snapshot is the disk now.
      await removeStaged(clients, bucket, prefix);
      return { region, diskId: snapshotId, sizeBytes, bytesWritten, checksum: verified };
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
  multipart: S3Multipart,
  bucket: string,
  prefix: string,
  resumeFrom: number,
  partSize: number,
): Promise<{ key: string; uploadId?: string } | undefined> {
  if (resumeFrom <= 0) return undefined;
  const finished = (await objectsUnder(clients, bucket, prefix)).find((o) => o.Size === resumeFrom);
  if (finished) return { key: finished.Key! };
  for (const upload of await uploadsUnder(clients, bucket, prefix)) {
    const candidate = { bucket, key: upload.Key!, uploadId: upload.UploadId! };
    if (await multipart.holdsBelow(candidate, partSize, resumeFrom)) return candidate;
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

/** Aborts the unfinished uploads and deletes the objects under `prefix`. */
async function removeStaged(clients: AwsClients, bucket: string, prefix: string): Promise<void> {
  const multipart = new S3Multipart(clients.s3, aws);
  for (const upload of await uploadsUnder(clients, bucket, prefix)) {
    await multipart.abort({ bucket, key: upload.Key!, uploadId: upload.UploadId! }).catch((error: unknown) => {
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
