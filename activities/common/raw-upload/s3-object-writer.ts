import { AbortMultipartUploadCommand, ListMultipartUploadsCommand, type S3Client } from '@aws-sdk/client-s3';
import type { DiskWriter, OpenObjectWriterInput, UploadedDisk } from '../../provider.js';
import { multipartPartSize, S3Multipart, type MultipartUpload } from '../transfer/s3-multipart-writer.js';

/** Unknown sizes: parts big enough for 1 TiB. */
const UNKNOWN_SIZE_PART = 128 * 1024 ** 2;

/** The part size for a file: the smallest MiB multiple ≥ 16 MiB that fits in 10 000 parts. */
export function objectPartSize(sizeBytes: number | undefined): number {
  return sizeBytes === undefined ? UNKNOWN_SIZE_PART : multipartPartSize(sizeBytes);
}

/**
 * One S3 object as a multipart upload (transfer/s3-multipart-writer.ts): a part per block, up
 * to 4 in flight. The checkpoint names the upload id and part size; a retry lists that
 * upload's parts and continues when it holds every part below the resume offset (the parts
 * already sent are not sent again). Anything else (no checkpoint, the upload gone or short)
 * starts a new upload of the same key, after aborting every unfinished upload of that key, so
 * a bucket never collects a second object or orphaned parts. Completing writes the object
 * under its final key only.
 */
export async function openS3ObjectWriter(s3: S3Client, input: OpenObjectWriterInput): Promise<DiskWriter> {
  const { bucket: Bucket, key: Key } = input;
  const multipart = new S3Multipart(s3);
  const partSize = objectPartSize(input.sizeBytes);
  const earlier = await continuable(multipart, input, partSize);
  let upload = earlier;
  if (!upload) {
    await abortUnfinished(s3, Bucket, Key);
    upload = await multipart.create({
      Bucket,
      Key,
      ContentType: input.contentType ?? 'application/octet-stream',
      Metadata: { 'imagecast-release-token': input.release.releaseToken },
    });
  }
  const started = upload;
  const at = `s3://${Bucket}/${Key}`;
  return {
    ...multipart.partWriter(started, partSize),
    resumeOffset: earlier ? input.resumeFromOffset : 0,
    checkpoint: () => ({ uploadId: started.uploadId, partSize }),
    async commit(sizeBytes, bytesWritten): Promise<UploadedDisk> {
      await multipart.complete(started, partSize, sizeBytes);
      return { region: '', diskId: at, sizeBytes, bytesWritten, checksum: { algorithm: 'sha512', hex: '' } };
    },
    async abort() {
      await multipart.abort(started).catch(() => undefined);
    },
  };
}

/** The earlier attempt's upload, when it still holds every whole part below the resume offset. */
async function continuable(
  multipart: S3Multipart,
  input: OpenObjectWriterInput,
  partSize: number,
): Promise<MultipartUpload | undefined> {
  const { checkpoint, resumeFromOffset } = input;
  const uploadId = checkpoint?.uploadId;
  if (typeof uploadId !== 'string' || checkpoint?.partSize !== partSize) return undefined;
  const upload = { bucket: input.bucket, key: input.key, uploadId };
  const held = await multipart
    .holdsBelow(upload, partSize, resumeFromOffset)
    .catch((error: { name?: string }) => {
      if (error.name === 'NoSuchUpload') return false;
      throw error;
    });
  return held ? upload : undefined;
}

async function abortUnfinished(s3: S3Client, Bucket: string, Key: string): Promise<void> {
  const { Uploads } = await s3.send(new ListMultipartUploadsCommand({ Bucket, Prefix: Key }));
  for (const upload of Uploads ?? []) {
    if (upload.Key !== Key) continue;
    await s3.send(new AbortMultipartUploadCommand({ Bucket, Key, UploadId: upload.UploadId }));
  }
}
