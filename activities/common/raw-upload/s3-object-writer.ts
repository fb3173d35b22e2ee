import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  ListMultipartUploadsCommand,
  ListPartsCommand,
  UploadPartCommand,
  type Part,
  type S3Client,
} from '@aws-sdk/client-s3';
import type { DiskWriter, OpenObjectWriterInput, UploadedDisk } from '../../provider.js';

const MiB = 1024 ** 2;
/** S3 allows 10 000 parts per upload, each but the last at least 5 MiB. */
const MAX_PARTS = 10_000;
/** 16 MiB parts hold a 160 GiB file in 10 000 parts; bigger files get bigger parts. */
const MIN_PART = 16 * MiB;
/** Unknown sizes: parts big enough for 1 TiB. */
const UNKNOWN_SIZE_PART = 128 * MiB;
const PARALLEL_PARTS = 4;

/** The part size for a file: the smallest MiB multiple ≥ 16 MiB that fits in 10 000 parts. */
export function objectPartSize(sizeBytes: number | undefined): number {
  if (sizeBytes === undefined) return UNKNOWN_SIZE_PART;
  return Math.max(MIN_PART, Math.ceil(sizeBytes / MAX_PARTS / MiB) * MiB);
}

/**
 * One S3 object as a multipart upload: a part per block, up to 4 in flight. The checkpoint
 * names the upload id and part size; a retry lists that upload's parts and continues when
 * it holds every part below the resume offset (the parts already sent are not sent again).
 * Anything else (no checkpoint, the upload gone or short) starts a new upload of the same
 * key, after aborting every unfinished upload of that key, so a bucket never collects a
 * second object or orphaned parts. Completing writes the object under its final key only.
 */
export async function openS3ObjectWriter(s3: S3Client, input: OpenObjectWriterInput): Promise<DiskWriter> {
  const { bucket: Bucket, key: Key } = input;
  const partSize = objectPartSize(input.sizeBytes);
  const earlier = await continuable(s3, input, partSize);
  let uploadId = earlier;
  if (!uploadId) {
    await abortUnfinished(s3, Bucket, Key);
    const created = await s3.send(
      new CreateMultipartUploadCommand({
        Bucket,
        Key,
        ContentType: input.contentType ?? 'application/octet-stream',
        Metadata: { 'imagecast-release-token': input.release.releaseToken },
      }),
    );
    uploadId = created.UploadId!;
  }
  const UploadId = uploadId;
  const at = `s3://${Bucket}/${Key}`;
  return {
    blockSize: partSize,
    maxConcurrentWrites: PARALLEL_PARTS,
    zeroBlocksMayBeSkipped: false,
    resumeOffset: earlier ? input.resumeFromOffset : 0,
    async writeBlock(offset, block) {
      await s3.send(
        new UploadPartCommand({
          Bucket,
          Key,
          UploadId,
          PartNumber: offset / partSize + 1,
          Body: block,
          ContentLength: block.length,
        }),
      );
    },
    checkpoint: () => ({ uploadId: UploadId, partSize }),
    async commit(sizeBytes, bytesWritten): Promise<UploadedDisk> {
      const parts = await listParts(s3, Bucket, Key, UploadId);
      const expected = Math.max(1, Math.ceil(sizeBytes / partSize));
      if (parts.length !== expected)
        throw new Error(`${at}: S3 holds ${parts.length} of ${expected} parts; the upload must run again`);
      await s3.send(
        new CompleteMultipartUploadCommand({
          Bucket,
          Key,
          UploadId,
          MultipartUpload: { Parts: parts.map(({ PartNumber, ETag }) => ({ PartNumber, ETag })) },
        }),
      );
      return { region: '', diskId: at, sizeBytes, bytesWritten, checksum: { algorithm: 'sha512', hex: '' } };
    },
    async abort() {
      await s3.send(new AbortMultipartUploadCommand({ Bucket, Key, UploadId })).catch(() => undefined);
    },
  };
}

/** The earlier attempt's upload id, when that upload still holds every whole part below the resume offset. */
async function continuable(
  s3: S3Client,
  input: OpenObjectWriterInput,
  partSize: number,
): Promise<string | undefined> {
  const { checkpoint, resumeFromOffset } = input;
  const uploadId = checkpoint?.uploadId;
  if (resumeFromOffset <= 0 || typeof uploadId !== 'string' || checkpoint?.partSize !== partSize)
    return undefined;
  if (resumeFromOffset % partSize !== 0) return undefined;
  const parts = await listParts(s3, input.bucket, input.key, uploadId).catch((error: { name?: string }) => {
    if (error.name === 'NoSuchUpload') return undefined;
    throw error;
  });
  if (!parts) return undefined;
  const whole = new Set(parts.filter((p) => p.Size === partSize).map((p) => p.PartNumber));
  let held = 0;
  while (whole.has(held + 1)) held++;
  return held * partSize >= resumeFromOffset ? uploadId : undefined;
}

async function listParts(s3: S3Client, Bucket: string, Key: string, UploadId: string): Promise<Part[]> {
  const parts: Part[] = [];
  let PartNumberMarker: string | undefined;
  do {
    const page = await s3.send(new ListPartsCommand({ Bucket, Key, UploadId, PartNumberMarker }));
    parts.push(...(page.Parts ?? []));
    PartNumberMarker = page.IsTruncated ? page.NextPartNumberMarker : undefined;
  } while (PartNumberMarker);
  return parts.sort((a, b) => a.PartNumber! - b.PartNumber!);
}

async function abortUnfinished(s3: S3Client, Bucket: string, Key: string): Promise<void> {
  const { Uploads } = await s3.send(new ListMultipartUploadsCommand({ Bucket, Prefix: Key }));
  for (const upload of Uploads ?? []) {
    if (upload.Key !== Key) continue;
    await s3.send(new AbortMultipartUploadCommand({ Bucket, Key, UploadId: upload.UploadId }));
  }
}
