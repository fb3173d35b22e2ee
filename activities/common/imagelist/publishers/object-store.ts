// Publishing to object storage (S3, Cloud Storage, Azure Blob) through the same object writers
// the raw image upload uses (CloudProvider.openObjectWriter): one client per cloud, built and
// credentialed in one place. A list is one block; an image file is streamed block by block
// into the writer, hashed on the way, and never staged on disk.
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { OBJECT_STORE_CLOUD } from '../../../../schemas/imagelist-publish.js';
import type { DiskWriter, OpenObjectWriterInput, ReleaseRef } from '../../../provider.js';
import { blocksOf } from '../../transfer/block-cutter.js';
import { WriteTracker } from '../../transfer/write-tracker.js';

/** What is published: a list (bytes) or an image file (a stream of a size known up front, as Cloud Storage needs). */
export type PublishBody = Buffer | { stream: Readable; sizeBytes: number };

/** What was written: the object's size and the sha512 of its bytes, from the one pass. */
export interface WrittenObject {
  sizeBytes: number;
  sha512: string;
}

export type ObjectStoreScheme = keyof typeof OBJECT_STORE_CLOUD;

/** A target URI read as the writers' bucket and key (Azure's bucket: `STORAGE_ACCOUNT/CONTAINER`). */
export function objectTarget(targetUri: string): { scheme: ObjectStoreScheme; bucket: string; key: string } {
  const match = /^(s3|gs|azure-blob):\/\/(.*)$/.exec(targetUri);
  if (!match) throw new Error(`"${targetUri}" is not an s3://, gs:// or azure-blob:// URI`);
  const scheme = match[1] as ObjectStoreScheme;
  const segments = match[2]!.split('/');
  const bucketSegments = scheme === 'azure-blob' ? 2 : 1;
  const bucket = segments.slice(0, bucketSegments).join('/');
  const key = segments.slice(bucketSegments).join('/');
  const form =
    scheme === 'azure-blob' ? 'azure-blob://STORAGE_ACCOUNT/CONTAINER/NAME' : `${scheme}://BUCKET/KEY`;
  if (segments.length <= bucketSegments || segments.slice(0, bucketSegments).some((s) => s === ''))
    throw new Error(`upload target ${targetUri}: expected ${form}`);
  if (key === '' || key.endsWith('/'))
    throw new Error(`upload target ${targetUri} names a folder, not an object: expected ${form}`);
  return { scheme, bucket, key: decodeURIComponent(key) };
}

/**
 * The writers tag what they write with a release token; a published list or image file
 * belongs to no release, so it carries the list's (or image's) own name instead.
 */
export function publishingRef(cloud: ReleaseRef['cloud'], account: string, key: string): ReleaseRef {
  return { releaseId: `imagelist-publish:${key}`, releaseToken: 'imagelist-publish', cloud, account };
}

/**
 * Writes `body` through an object writer: blocks of the writer's size, at most its
 * `maxConcurrentWrites` in flight, committed once all are written (the object appears whole or
 * not at all), aborted on failure. The sha512 and size come from the same pass.
 */
export async function writeObject(writer: DiskWriter, body: PublishBody): Promise<WrittenObject> {
  const hash = createHash('sha512');
  const tracker = new WriteTracker(writer, 0);
  const chunks: AsyncIterable<Uint8Array> = Buffer.isBuffer(body) ? Readable.from([body]) : body.stream;
  try {
    for await (const block of blocksOf(chunks, writer.blockSize)) {
      hash.update(block);
      await tracker.submit(block, false);
    }
    await tracker.drain();
    const sizeBytes = tracker.nextOffset;
    const expected = Buffer.isBuffer(body) ? body.length : body.sizeBytes;
    if (sizeBytes !== expected)
      throw new Error(
        `read ${sizeBytes} bytes where ${expected} were expected (the file changed while it was read?)`,
      );
    await writer.commit(sizeBytes, tracker.bytesWritten);
    return { sizeBytes, sha512: hash.digest('hex') };
  } catch (error) {
    await tracker.settle();
    await writer.abort().catch(() => undefined);
    throw error;
  }
}

/** What opens an object writer for a cloud (a CloudProvider's openObjectWriter). */
export type OpenObjectWriter = (input: OpenObjectWriterInput) => Promise<DiskWriter>;

/** Writes one object at `targetUri` with `account`'s credentials, through the cloud's object writer. */
export async function putObject(
  openWriter: OpenObjectWriter,
  account: string,
  targetUri: string,
  body: PublishBody,
  contentType: string,
): Promise<WrittenObject> {
  const { scheme, bucket, key } = objectTarget(targetUri);
  const writer = await openWriter({
    account,
    release: publishingRef(OBJECT_STORE_CLOUD[scheme], account, key),
    bucket,
    key,
    sizeBytes: Buffer.isBuffer(body) ? body.length : body.sizeBytes,
    resumeFromOffset: 0,
    contentType,
  });
  try {
    return await writeObject(writer, body);
  } catch (error) {
    throw new Error(`cannot write ${targetUri} with account "${account}": ${(error as Error).message}`);
  }
}
