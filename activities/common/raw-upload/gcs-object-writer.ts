import type { Storage } from '@google-cloud/storage';
import type { DiskWriter, OpenObjectWriterInput, UploadedDisk } from '../../provider.js';
import { nonRetryable } from '../errors.js';

const MiB = 1024 ** 2;
/** A chunk per block; every chunk but the last must be a 256 KiB multiple. */
const BLOCK_SIZE = 16 * MiB;

/** What a resumable session holds (the documented status query), or that it is gone or finished. */
export type SessionStatusOf = (
  sessionUri: string,
) => Promise<{ state: 'open' | 'finished' | 'gone'; bytes: number }>;

/**
 * One Cloud Storage object through one resumable upload session: each block is a chunk
 * (`Content-Range: bytes A-B/*`), the last one names the total and finishes the object.
 * A session takes its chunks in order, so one is in flight at a time. The checkpoint names
 * the session URI; a retry asks the session what it holds and continues when that covers
 * the resume offset (the session ignores bytes it has: nothing is sent twice in the object).
 * Anything else starts a new session of the same name, which replaces nothing until it
 * finishes: the bucket never holds a second object.
 */
export async function openGcsObjectWriter(
  storage: Storage,
  input: OpenObjectWriterInput,
  statusOf: SessionStatusOf,
): Promise<DiskWriter> {
  const total = input.sizeBytes;
  const at = `gs://${input.bucket}/${input.key}`;
  if (total === undefined) {
    throw nonRetryable(
      'InvalidJob',
      `${at}: the build service gives no size for the file, which a Cloud Storage session needs to finish`,
    );
  }
  const earlier = input.checkpoint?.sessionUri;
  let sessionUri: string | undefined;
  let resumeOffset = 0;
  if (typeof earlier === 'string' && input.resumeFromOffset > 0) {
    const status = await statusOf(earlier);
    if (status.state === 'open' && status.bytes >= input.resumeFromOffset) {
      sessionUri = earlier;
      resumeOffset = input.resumeFromOffset;
    }
  }
  if (!sessionUri) {
    [sessionUri] = await storage
      .bucket(input.bucket)
      .file(input.key)
      .createResumableUpload({
        metadata: {
          contentType: input.contentType ?? 'application/octet-stream',
          metadata: { 'imagecast-release-token': input.release.releaseToken },
        },
      });
  }
  const uri = sessionUri;
  const put = async (offset: number, block: Buffer) => {
    const end = offset + block.length;
    const last = end === total;
    const response = await storage.authClient.request({
      url: uri,
      method: 'PUT',
      headers: {
        'Content-Range': `bytes ${offset}-${end - 1}/${last ? total : '*'}`,
        'Content-Length': String(block.length),
      },
      body: block,
      validateStatus: () => true,
    });
    const expected = last ? response.status === 200 || response.status === 201 : response.status === 308;
    if (!expected) throw new Error(`${at}: a chunk at ${offset} was answered HTTP ${response.status}`);
  };
  return {
    blockSize: BLOCK_SIZE,
    maxConcurrentWrites: 1,
    zeroBlocksMayBeSkipped: false,
    resumeOffset,
    async writeBlock(offset, block) {
      if (block.length === 0) return;
      await put(offset, block);
    },
    checkpoint: () => ({ sessionUri: uri }),
    async commit(sizeBytes, bytesWritten): Promise<UploadedDisk> {
      if (sizeBytes !== total)
        throw new Error(`${at}: ${sizeBytes} bytes were read but the build service said ${total}`);
      // An empty file has had no chunk: the last (empty) one finishes the object.
      if (sizeBytes === 0) {
        await storage.authClient.request({
          url: uri,
          method: 'PUT',
          headers: { 'Content-Range': 'bytes */0' },
          validateStatus: () => true,
        });
      }
      return { region: '', diskId: at, sizeBytes, bytesWritten, checksum: { algorithm: 'sha512', hex: '' } };
    },
    async abort() {
      await storage.authClient
        .request({ url: uri, method: 'DELETE', validateStatus: () => true })
        .catch(() => undefined);
    },
  };
}
