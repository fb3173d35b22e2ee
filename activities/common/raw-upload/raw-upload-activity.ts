import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { Context } from '@temporalio/activity';
import type { CloudProvider, ReleaseRef, ResolvedImageSource, WriterCheckpoint } from '../../provider.js';
import type { RawUploadedObject, RawUploadResult, RawUploadSpec } from '../../../schemas/raw-upload.js';
import { nonRetryable } from '../errors.js';
import {
  transferImage,
  type TransferProgress,
  type TransferResumeState,
} from '../transfer/transfer-image.js';
import { objectLocation, objectUrl, type ObjectLocation } from './object-location.js';

export interface UploadRawImageInput {
  release: ReleaseRef;
  source: ResolvedImageSource;
  upload: RawUploadSpec;
  /** The release's image name: the object is named after it (mash). */
  imageName: string;
  /** YYYYMMDD: what `{date}` in the location becomes (the image name's date). */
  date: string;
}

/** Heartbeat details: where the image's upload stands, or that it is done. */
interface RawUploadHeartbeat {
  transfer?: TransferResumeState & { writer?: WriterCheckpoint };
  image?: RawUploadedObject;
  sourceBytesRead?: number;
  percent?: number;
}

/** The additional files are checksums, signatures and manifests: small, read whole. */
const MAX_ADDITIONAL_BYTES = 64 * 1024 ** 2;

/**
 * The raw_image_upload step on the queue of the bucket's cloud: the image file, exactly as
 * the build service serves it (no decompression), streamed from the build service into the
 * bucket with the account's stored credentials, checked against its checksum file and
 * hashed with sha512 in the same pass; then the additional files next to it. Nothing is
 * staged on disk. A retry resumes the image from the last heartbeat (the upload id, session
 * or staged blocks, and the hash states) without sending completed parts again.
 */
export interface RawUploadDeps {
  provider: CloudProvider;
  /** Between progress heartbeats (default 1 s; tests shorten it to checkpoint every part). */
  progressIntervalMs?: number;
}

export function createRawUploadActivities({ provider, progressIntervalMs }: RawUploadDeps) {
  return {
    async uploadRawImage(input: UploadRawImageInput): Promise<RawUploadResult> {
      const { source, upload } = input;
      if (!provider.openObjectWriter) {
        throw nonRetryable(
          'InvalidJob',
          `the ${provider.cloud} queue cannot write raw uploads (${upload.type})`,
        );
      }
      const openWriter = provider.openObjectWriter.bind(provider);
      const context = Context.current();
      const earlier = context.info.heartbeatDetails as RawUploadHeartbeat | undefined;
      const where = objectLocation(
        upload.type,
        upload.location,
        source.fileName,
        input.imageName,
        input.date,
      );
      const image =
        earlier?.image ??
        (await uploadImageFile(input, where, earlier?.transfer, openWriter, progressIntervalMs));
      context.heartbeat({ image } satisfies RawUploadHeartbeat);
      const additional: RawUploadedObject[] = [];
      for (const suffix of upload.additionalUploads) {
        additional.push(
          await uploadAdditionalFile(
            input,
            { bucket: where.bucket, key: `${where.key}.${suffix}` },
            suffix,
            openWriter,
          ),
        );
        context.heartbeat({ image } satisfies RawUploadHeartbeat);
      }
      return { image, additional };
    },
  };
}

type OpenWriter = NonNullable<CloudProvider['openObjectWriter']>;

async function uploadImageFile(
  input: UploadRawImageInput,
  where: ObjectLocation,
  resume: RawUploadHeartbeat['transfer'],
  openWriter: OpenWriter,
  progressIntervalMs: number | undefined,
): Promise<RawUploadedObject> {
  const context = Context.current();
  const { source, release, upload } = input;
  // A sha512 checksum file: the transfer's own verified hash is the object's. Otherwise the
  // transfer computes the sha512 beside the checksum it verifies, over every byte it reads
  // (a retry re-reads the file from its start, uploading only what the writer lacks).
  const hashing = source.checksum.algorithm !== 'sha512';
  const usable = resume && resume.diskOffset > 0;
  const writer = await openWriter({
    account: upload.account,
    release,
    bucket: where.bucket,
    key: where.key,
    sizeBytes: source.sizeBytes,
    resumeFromOffset: usable ? resume.diskOffset : 0,
    ...(usable && resume.writer && { checkpoint: resume.writer }),
  });
  const heartbeat = (progress: TransferProgress) => {
    const checkpoint = writer.checkpoint?.(progress.resume.diskOffset);
    context.heartbeat({
      transfer: { ...progress.resume, ...(checkpoint && { writer: checkpoint }) },
      sourceBytesRead: progress.sourceBytesRead,
      percent: progress.sourceBytesTotal
        ? Math.floor((100 * progress.sourceBytesRead) / progress.sourceBytesTotal)
        : undefined,
    } satisfies RawUploadHeartbeat);
  };
  try {
    const object = await transferImage({
      // As served: a compressed file is copied compressed, so it is hashed block by block
      // and a retry checks that the part it re-reads is what was uploaded.
      source: { ...source, compression: 'none', format: undefined },
      writer,
      resume: usable && writer.resumeOffset === resume.diskOffset ? resume : undefined,
      signal: context.cancellationSignal,
      onProgress: heartbeat,
      progressIntervalMs,
      ...(hashing && { extraDigest: 'sha512' as const }),
    });
    return {
      url: objectUrl(
        upload.type,
        where,
        upload.type === 'azure_blob' ? blobEndpoint(object.diskId, where) : undefined,
      ),
      sizeBytes: object.sizeBytes,
      sha512: hashing ? object.extraDigestHex! : source.checksum.hex.toLowerCase(),
    };
  } catch (error) {
    if (context.cancellationDetails?.cancelRequested) await writer.abort();
    throw error;
  }
}

/** The file `<image URL>.<suffix>`, read whole and written as one block. */
async function uploadAdditionalFile(
  input: UploadRawImageInput,
  where: ObjectLocation,
  suffix: string,
  openWriter: OpenWriter,
): Promise<RawUploadedObject> {
  const url = `${input.source.url}.${suffix}`;
  const bytes = await readWhole(url, `${input.source.fileName}.${suffix}`);
  const writer = await openWriter({
    account: input.upload.account,
    release: input.release,
    bucket: where.bucket,
    key: where.key,
    sizeBytes: bytes.length,
    resumeFromOffset: 0,
  });
  if (bytes.length > 0) await writer.writeBlock(0, bytes);
  const object = await writer.commit(bytes.length, bytes.length);
  const type = input.upload.type;
  return {
    url: objectUrl(type, where, type === 'azure_blob' ? blobEndpoint(object.diskId, where) : undefined),
    sizeBytes: bytes.length,
    sha512: createHash('sha512').update(bytes).digest('hex'),
  };
}

async function readWhole(url: string, name: string): Promise<Buffer> {
  if (url.startsWith('file:')) {
    return readFile(fileURLToPath(url)).catch((error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT')
        throw nonRetryable(
          'ImageSourceNotFound',
          `additional_uploads: the build service has no ${name} (${url})`,
        );
      throw error;
    });
  }
  const response = await fetch(url);
  if (response.status === 404 || response.status === 410) {
    await response.body?.cancel();
    throw nonRetryable(
      'ImageSourceNotFound',
      `additional_uploads: the build service has no ${name} (${url} answered ${response.status})`,
    );
  }
  if (!response.ok) throw new Error(`${url} answered ${response.status} ${response.statusText}`);
  const bytes = Buffer.from(await response.arrayBuffer());
  if (bytes.length > MAX_ADDITIONAL_BYTES) {
    throw nonRetryable(
      'InvalidJob',
      `additional_uploads: ${name} is ${bytes.length} bytes; additional files may be at most ${MAX_ADDITIONAL_BYTES}`,
    );
  }
  return bytes;
}

/** The storage account's endpoint as the writer's blob URL says (an emulator's differs from Azure's). */
function blobEndpoint(blobUrl: string, where: ObjectLocation): string {
  const container = where.bucket.split('/')[1]!;
  const at = blobUrl.indexOf(`/${container}/`);
  return at > 0 ? blobUrl.slice(0, at) : blobUrl;
}
