import type { Bucket, File, FileMetadata } from '@google-cloud/storage';
import { nonRetryable } from '../common/errors.js';
import { checkCommittedChecksum } from '../common/transfer/committed-checksum.js';
import type { DiskWriter, OpenDiskWriterInput, ReleaseRef, UploadedDisk, WriterCheckpoint } from '../provider.js';
import type { GceClients } from './clients.js';
import { ResumableBody, type BodyLayout, type BodyPosition } from './resumable-body.js';
import { querySession, type SessionStatus } from './upload-session.js';
import { paddedDiskSize, tarGzipHead, tarGzipTail } from './tar-gzip.js';

export interface GcsTarballTarget {
  bucket: string;
  /** `<image name>.tar.gz`, what the image is created from. */
  objectName: string;
  /** Replace an object of that name another run (or a person) left; else refuse. */
  forceReplace: boolean;
}

const MiB = 1024 ** 2;
/**
 * 8 MiB blocks, 8 in flight: 64 MiB of disk in memory at most, 8 deflates for 4 threadpool
 * threads (16 MiB blocks doubled the transfer's memory, ~140 → ~270 MiB, for no speed).
 */
const BLOCK_SIZE = 8 * MiB;
const MAX_WRITES = 8;
/** Half the blocks in flight: one half deflates while the other half's last chunk is sent. */
const SYNC_BYTES = (MAX_WRITES / 2) * BLOCK_SIZE;

export const RELEASE_TOKEN_KEY = 'imagecast-release-token';
export const RELEASE_ID_KEY = 'imagecast-release-id';
/** Set on the composed tarball only (so only on a verified upload): `sha256:<hex>` of the build. */
export const CHECKSUM_KEY = 'imagecast-checksum';
/** The disk's size in bytes (the object's own size is the compressed tarball's). */
export const DISK_BYTES_KEY = 'imagecast-disk-bytes';
/** Set when a retry adopted the tarball: the token of the run that uploaded it. */
export const REUSED_FROM_KEY = 'imagecast-reused-from';

/** How a build's checksum is written in metadata and compared. */
export const checksumText = (checksum: { algorithm: string; hex: string }) => `${checksum.algorithm}:${checksum.hex}`;

/** Where a run's part objects live until they are composed: under its token. */
export function partPrefix(release: ReleaseRef): string {
  return `imagecast-parts/${release.releaseToken}/`;
}

function releaseMetadata(release: ReleaseRef): Record<string, string> {
  return { [RELEASE_TOKEN_KEY]: release.releaseToken, [RELEASE_ID_KEY]: release.releaseId };
}

/** What a retry needs to continue the body's upload session (plain JSON, in the heartbeat). */
interface TarballCheckpoint extends BodyPosition {
  sessionUri: string;
  partName: string;
  /** The stream is regenerated on resume: only the same deflate gives the same bytes. */
  zlibVersion: string;
  arch: string;
  blockSize: number;
  syncBytes: number;
}

/**
 * GCE's upload step: the disk as `gs://<bucket>/<objectName>`, a gzip'd tar holding one file
 * `disk.raw` padded to a whole GiB, streamed without knowing the disk's size up front. The
 * body (the deflated disk) goes into a part object through one resumable upload session
 * (see ResumableBody); commit writes a small head (gzip and tar headers, now that the size is
 * known) and tail (padding, end of archive, gzip trailer) and composes head + body + tail
 * into the object, which carries the run's token.
 *
 * A retry whose checkpoint names a session that is still open continues it; anything else
 * (session gone, another zlib) starts over with a new one. An object of that name made by
 * this run is the finished upload (returned as is); one made by anything else is refused
 * unless `forceReplace`.
 */
export async function openGcsTarballWriter(
  c: GceClients,
  input: OpenDiskWriterInput,
  target: GcsTarballTarget,
): Promise<DiskWriter> {
  const { release, region, checksum } = input;
  const bucket = c.storage.bucket(target.bucket);
  const diskId = `gs://${target.bucket}/${target.objectName}`;
  const final = bucket.file(target.objectName);
  const existing = await metadataOf(final);
  if (existing?.metadata?.[RELEASE_TOKEN_KEY] === release.releaseToken) {
    return finishedUpload(input, diskId, Number(existing.size), existing.metadata?.[CHECKSUM_KEY]);
  }
  if (existing && !target.forceReplace) {
    throw nonRetryable(
      'CloudInvalidRequest',
      `${diskId} already exists and was not made by this release: remove it, or set force_replace_image to replace it`,
      { bucket: target.bucket, objectName: target.objectName },
    );
  }

  const names = {
    head: `${partPrefix(release)}${target.objectName}.head`,
    body: `${partPrefix(release)}${target.objectName}.body`,
    tail: `${partPrefix(release)}${target.objectName}.tail`,
  };
  const layout: BodyLayout = { blockSize: BLOCK_SIZE, syncBytes: SYNC_BYTES, diskSizeBytes: input.diskSizeBytes };
  const resumed = await resumeBody(c, bucket, input, layout);
  const body = resumed ?? (await newBody(c, bucket, names.body, release, layout));
  const removeParts = async () => {
    if (body instanceof ResumableBody) await cancelSession(c, body.sessionUri);
    await Promise.all(Object.values(names).map((name) => deleteFile(bucket.file(name))));
  };

  return {
    blockSize: BLOCK_SIZE,
    maxConcurrentWrites: MAX_WRITES,
    // A tar holds every byte of the disk: zero blocks deflate to almost nothing instead.
    zeroBlocksMayBeSkipped: false,
    resumeOffset: resumed ? input.resumeFromOffset : 0,

    async writeBlock(offset, block) {
      if (!(body instanceof ResumableBody)) {
        throw new Error(`${diskId}: the body was finished by an earlier attempt; no block can be added`);
      }
      await body.write(offset, block);
    },

    checkpoint(diskOffset): WriterCheckpoint | undefined {
      if (!(body instanceof ResumableBody)) return body.checkpoint;
      const position = body.positionAt(diskOffset);
      if (!position) return undefined;
      const checkpoint: TarballCheckpoint = {
        sessionUri: body.sessionUri,
        partName: body.partName,
        ...position,
        zlibVersion: process.versions.zlib ?? 'unknown',
        arch: process.arch,
        blockSize: BLOCK_SIZE,
        syncBytes: SYNC_BYTES,
      };
      return { ...checkpoint };
    },

    async commit(sizeBytes, _bytesWritten, verified = checksum): Promise<UploadedDisk> {
      const { position, bytes: bodyBytes } = body instanceof ResumableBody ? await body.finish() : body;
      if (position.diskOffset !== sizeBytes) {
        throw new Error(`${diskId}: the body holds ${position.diskOffset} disk bytes, the disk has ${sizeBytes}`);
      }
      const paddedSize = paddedDiskSize(sizeBytes);
      const head = await tarGzipHead(paddedSize, Math.floor(Date.now() / 1000));
      const tail = await tarGzipTail({ headCrc: head.crc, diskBytes: sizeBytes, diskCrc: position.crc32, paddedSize });
      const partMetadata = { contentType: 'application/octet-stream', metadata: releaseMetadata(release) };
      await Promise.all([
        bucket.file(names.head).save(head.bytes, { resumable: false, validation: false, metadata: partMetadata }),
        bucket.file(names.tail).save(tail, { resumable: false, validation: false, metadata: partMetadata }),
      ]);
      // Bucket.combine() would drop custom metadata: the token must come with the object in
      // one step, or a crash in between leaves an object the retry takes for someone else's.
      await final.request({
        method: 'POST',
        uri: '/compose',
        json: {
          destination: {
            contentType: 'application/gzip',
            // The checksum makes the tarball a retry's to adopt (adoptGceReusable).
            // The transfer's checksum: a source that published none has it only now.
            metadata: { ...releaseMetadata(release), [CHECKSUM_KEY]: checksumText(verified), [DISK_BYTES_KEY]: String(sizeBytes) },
          },
          sourceObjects: [{ name: names.head }, { name: names.body }, { name: names.tail }],
        },
      });
      await Promise.all(Object.values(names).map((name) => deleteFile(bucket.file(name))));
      return {
        region,
        diskId,
        sizeBytes,
        bytesWritten: head.bytes.length + bodyBytes + tail.length,
        checksum: verified,
      };
    },

    async abort() {
      await removeParts();
      const made = await metadataOf(final);
      if (made?.metadata?.[RELEASE_TOKEN_KEY] === release.releaseToken) await deleteFile(final);
    },
  };
}

/** The earlier attempt's body when its checkpoint still describes it, else undefined. */
async function resumeBody(
  c: GceClients,
  bucket: Bucket,
  input: OpenDiskWriterInput,
  layout: BodyLayout,
): Promise<ResumableBody | FinishedBody | undefined> {
  const checkpoint = parseCheckpoint(input.checkpoint);
  if (
    !checkpoint ||
    input.resumeFromOffset <= 0 ||
    checkpoint.diskOffset !== input.resumeFromOffset ||
    checkpoint.zlibVersion !== process.versions.zlib ||
    checkpoint.arch !== process.arch ||
    checkpoint.blockSize !== layout.blockSize ||
    checkpoint.syncBytes !== layout.syncBytes
  ) {
    return undefined;
  }
  const status = await sessionStatus(c, checkpoint.sessionUri);
  const position: BodyPosition = {
    diskOffset: checkpoint.diskOffset,
    compressedOffset: checkpoint.compressedOffset,
    crc32: checkpoint.crc32,
  };
  if (status.state === 'open' && status.bytes >= checkpoint.compressedOffset) {
    return new ResumableBody(bucket, checkpoint.partName, checkpoint.sessionUri, layout, position, status.bytes);
  }
  if (status.state === 'finished' && status.bytes >= checkpoint.compressedOffset) {
    // Died during commit: the body is whole (its last chunk was sent after this checkpoint).
    const [exists] = await bucket.file(checkpoint.partName).exists();
    if (exists) return { position, bytes: status.bytes, checkpoint: { ...checkpoint } };
  }
  return undefined;
}

interface FinishedBody {
  position: BodyPosition;
  bytes: number;
  checkpoint: WriterCheckpoint;
}

async function newBody(
  c: GceClients,
  bucket: Bucket,
  partName: string,
  release: ReleaseRef,
  layout: BodyLayout,
): Promise<ResumableBody> {
  // The session is the SDK's (issue 12 asks for @google-cloud/storage: it owns the endpoint,
  // auth, metadata and the session's creation); only its chunks go through upload-session.ts,
  // because the SDK's upload stream lets a refused chunk's error escape as an uncaught
  // exception, which took the whole worker down.
  const [sessionUri] = await bucket.file(partName).createResumableUpload({
    metadata: { contentType: 'application/octet-stream', metadata: releaseMetadata(release) },
  });
  void c;
  return new ResumableBody(bucket, partName, sessionUri, layout, { diskOffset: 0, compressedOffset: 0, crc32: 0 }, 0);
}

function parseCheckpoint(raw: WriterCheckpoint | undefined): TarballCheckpoint | undefined {
  if (!raw) return undefined;
  const numbers = ['diskOffset', 'compressedOffset', 'crc32', 'blockSize', 'syncBytes'] as const;
  const strings = ['sessionUri', 'partName', 'zlibVersion', 'arch'] as const;
  if (numbers.some((k) => typeof raw[k] !== 'number') || strings.some((k) => typeof raw[k] !== 'string')) return undefined;
  return raw as unknown as TarballCheckpoint;
}

/** What the session holds: see querySession (the SDK runs it only inside an upload stream and does not export it). */
export async function sessionStatus(c: GceClients, sessionUri: string): Promise<SessionStatus> {
  return querySession(c.storage.authClient, sessionUri);
}

/** Cancels a session (DELETE on its URI, answered 499); one already gone is fine. */
async function cancelSession(c: GceClients, sessionUri: string): Promise<void> {
  await c.storage.authClient.request({ url: sessionUri, method: 'DELETE', validateStatus: () => true });
}

function finishedUpload(
  input: OpenDiskWriterInput,
  diskId: string,
  objectBytes: number,
  recorded: string | number | boolean | null | undefined,
): DiskWriter {
  return {
    blockSize: BLOCK_SIZE,
    maxConcurrentWrites: MAX_WRITES,
    zeroBlocksMayBeSkipped: false,
    resumeOffset: input.resumeFromOffset,
    // The object is there already: the transfer only checks the source's checksum.
    async writeBlock() {},
    async commit(sizeBytes, _bytesWritten, verified) {
      checkCommittedChecksum(diskId, typeof recorded === 'string' ? recorded : undefined, verified);
      return { region: input.region, diskId, sizeBytes, bytesWritten: objectBytes, checksum: verified ?? input.checksum };
    },
    async abort() {},
  };
}

export async function metadataOf(file: File): Promise<FileMetadata | undefined> {
  try {
    const [metadata] = await file.getMetadata();
    return metadata;
  } catch (error) {
    if ((error as { code?: number }).code === 404) return undefined;
    throw error;
  }
}

async function deleteFile(file: File): Promise<void> {
  await file.delete({ ignoreNotFound: true });
}

/** Removes `gs://bucket/objectName`; one already gone is fine. */
export async function deleteGcsObject(c: GceClients, bucket: string, objectName: string): Promise<void> {
  await deleteFile(c.storage.bucket(bucket).file(objectName));
}

/**
 * The saga's part: every object in the bucket carrying this run's token (parts and a
 * composed tarball alike). A bucket that is gone holds nothing to remove.
 */
export async function discardGcsUploads(c: GceClients, bucket: string, release: ReleaseRef): Promise<void> {
  try {
    const [files] = await c.storage.bucket(bucket).getFiles();
    const ours = files.filter((f) => f.metadata.metadata?.[RELEASE_TOKEN_KEY] === release.releaseToken);
    await Promise.all(ours.map(deleteFile));
  } catch (error) {
    if ((error as { code?: number }).code !== 404) throw error;
  }
}
