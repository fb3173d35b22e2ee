import { createHash } from 'node:crypto';
import type { BlobGetPropertiesResponse, ContainerClient, PageBlobClient } from '@azure/storage-blob';
import { nonRetryable } from '../common/errors.js';
import type { DiskWriter, OpenDiskWriterInput, UploadedDisk, WriterCheckpoint } from '../provider.js';
import { azure, isBlobNotFound, type AzureStorageTarget } from './azure-errors.js';
import { nonZeroPageRuns, padToPages, PAGE_SIZE } from './page-runs.js';
import {
  paddedVhdDiskSize,
  parseVhdFooter,
  VHD_FOOTER_SIZE,
  vhdFooter,
  VhdFooterInvalid,
} from '../common/transfer/vhd-footer.js';

export interface PageBlobTarget {
  /** `<image name>.vhd`, what the image is created from. */
  blobName: string;
  /** Replace a blob of that name another run (or a person) left; else refuse. */
  forceReplace: boolean;
}

export interface PageBlobWriterOptions {
  /** Blocks written at once (each one request at a time); DEFAULT_MAX_WRITES unless told. */
  maxConcurrentWrites?: number;
}

const MiB = 1024 ** 2;
/** Put Page takes at most 4 MiB per call: one block, one request (fewer when it has zero gaps). */
const BLOCK_SIZE = 4 * MiB;
/** 32 MiB of disk in memory at most; a page blob takes ~60 MiB/s, which 8 requests keep busy. */
export const DEFAULT_MAX_WRITES = 8;
/**
 * The page blob's size while the disk's is unknown (a compressed source): room for a 4 TiB
 * disk, Azure's largest OS disk, and its footer. Pages never written cost nothing; commit
 * shrinks it.
 */
const UNKNOWN_SIZE_CAPACITY = 4 * 1024 ** 4 + VHD_FOOTER_SIZE;

// Azure metadata names must be C# identifiers (no "-"), and come back lower-case.
export const RELEASE_TOKEN_KEY = 'imagecastreleasetoken';
export const RELEASE_ID_KEY = 'imagecastreleaseid';
/** `<algorithm>:<hex>` of the source: a blob of this run from another source is not resumed. */
export const SOURCE_CHECKSUM_KEY = 'imagecastsourcechecksum';
/** Set only once the footer is written: the committed marker, the raw disk size. */
const DISK_SIZE_KEY = 'imagecastdisksize';
const BYTES_WRITTEN_KEY = 'imagecastbyteswritten';

/** A retry's share of the bytes sent: what the earlier attempts sent below its offset. */
interface PageBlobCheckpoint {
  diskOffset: number;
  sentBytes: number;
}

/**
 * Azure's upload step: the disk as a fixed VHD in the page blob `<container>/<blobName>`: the
 * disk, zeros up to the next whole MiB, then the 512-byte VHD footer. Page blobs are sparse
 * and overwritable, so blocks are written in place in any order, zero blocks (and zero gaps of
 * 64 KiB or more inside a block) are never sent, and a retry simply continues at its offset
 * in the blob it left. Commit sizes the blob and writes the footer, then marks it committed
 * in its metadata.
 *
 * A blob of that name made by this run and committed is the finished upload (returned as
 * is); one made by anything else is refused unless `forceReplace`.
 */
export async function openPageBlobWriter(
  container: ContainerClient,
  input: OpenDiskWriterInput,
  target: PageBlobTarget,
  options: PageBlobWriterOptions = {},
): Promise<DiskWriter> {
  const { release, region, checksum } = input;
  const maxConcurrentWrites = options.maxConcurrentWrites ?? DEFAULT_MAX_WRITES;
  const where: AzureStorageTarget = { account: container.accountName, container: container.containerName };
  const blob = container.getPageBlobClient(target.blobName);
  const diskId = blob.url;
  // Needed before the upload: a partial blob says which source it holds. A source that
  // published no checksum is `sha256:` here on every attempt of the run (the token decides
  // what is ours); the commit replaces it with the computed one.
  const sourceChecksum = `${checksum.algorithm}:${checksum.hex.toLowerCase()}`;
  const existing = await propertiesOf(blob, where);
  const ours = existing?.metadata?.[RELEASE_TOKEN_KEY] === release.releaseToken;
  if (ours) {
    const finished = await committedUpload(blob, existing, sourceChecksum, where);
    if (finished)
      return finishedWriter(input, diskId, finished, maxConcurrentWrites, () =>
        removeOurs(blob, release.releaseToken, where),
      );
  } else if (existing && !target.forceReplace) {
    throw nonRetryable(
      'CloudInvalidRequest',
      `${diskId} already exists and was not made by this release: remove it, or set force_replace_image to replace it`,
      { account: where.account, container: where.container, blobName: target.blobName },
    );
  }

  const metadata: Record<string, string> = {
    [RELEASE_TOKEN_KEY]: release.releaseToken,
    [RELEASE_ID_KEY]: headerSafe(release.releaseId),
    [SOURCE_CHECKSUM_KEY]: sourceChecksum,
  };
  const resumable =
    ours &&
    input.resumeFromOffset > 0 &&
    input.resumeFromOffset % PAGE_SIZE === 0 &&
    existing.blobType === 'PageBlob' &&
    existing.metadata?.[SOURCE_CHECKSUM_KEY] === sourceChecksum &&
    (existing.contentLength ?? 0) >= input.resumeFromOffset;
  let capacity: number;
  if (resumable) {
    // Same run, same source: every page the earlier attempt wrote holds what this one would.
    capacity = existing.contentLength ?? 0;
  } else {
    if (existing)
      await azure('delete blob', where, () => blob.deleteIfExists({ deleteSnapshots: 'include' }));
    capacity =
      input.diskSizeBytes !== undefined
        ? paddedVhdDiskSize(input.diskSizeBytes) + VHD_FOOTER_SIZE
        : UNKNOWN_SIZE_CAPACITY;
    // If-None-Match: a blob that appeared since we looked is someone else's, not ours to overwrite.
    await azure('create page blob', where, () =>
      blob.create(capacity, { metadata, conditions: { ifNoneMatch: '*' } }),
    );
  }

  const earlier = resumable ? sentBelow(input.checkpoint, input.resumeFromOffset) : 0;
  /** Bytes this attempt sent below the last checkpoint's offset, and per block above it. */
  let sentFolded = 0;
  const sentAhead = new Map<number, number>();
  /** Bytes the transfer handed this attempt, to estimate the earlier attempts' share without a checkpoint. */
  let blockBytes = 0;

  return {
    blockSize: BLOCK_SIZE,
    maxConcurrentWrites,
    zeroBlocksMayBeSkipped: true,
    resumeOffset: resumable ? input.resumeFromOffset : 0,

    async writeBlock(offset, block) {
      const pages = padToPages(block);
      if (offset + pages.length > capacity - VHD_FOOTER_SIZE) {
        throw nonRetryable(
          'CloudInvalidRequest',
          `${diskId}: the disk is larger than the ${capacity - VHD_FOOTER_SIZE} bytes a VHD upload can hold`,
        );
      }
      let sent = 0;
      // One request at a time per block: the transfer's limit on writes in flight holds.
      for (const [start, end] of nonZeroPageRuns(pages)) {
        await azure('upload pages', where, () =>
          blob.uploadPages(pages.subarray(start, end), offset + start, end - start),
        );
        sent += end - start;
      }
      blockBytes += block.length;
      sentAhead.set(offset, sent);
    },

    checkpoint(diskOffset): WriterCheckpoint | undefined {
      // Asked for the growing written prefix: what lies below it is folded into one sum.
      for (const [at, sent] of sentAhead) {
        if (at >= diskOffset) continue;
        sentFolded += sent;
        sentAhead.delete(at);
      }
      if (earlier === undefined) return undefined;
      const checkpoint: PageBlobCheckpoint = { diskOffset, sentBytes: earlier + sentFolded };
      return { ...checkpoint };
    },

    async commit(sizeBytes, transferBytes, verified = checksum): Promise<UploadedDisk> {
      const virtualSize = paddedVhdDiskSize(sizeBytes);
      const length = virtualSize + VHD_FOOTER_SIZE;
      // Shrinking drops only pages past the disk, which nothing wrote.
      if (length !== capacity) await azure('resize page blob', where, () => blob.resize(length));
      const footer = vhdFooter({
        sizeBytes: virtualSize,
        uniqueId: vhdUniqueId(release.releaseToken, target.blobName),
        timestamp: new Date(),
      });
      await azure('upload pages', where, () => blob.uploadPages(footer, virtualSize, VHD_FOOTER_SIZE));
      let sent = sentFolded;
      for (const n of sentAhead.values()) sent += n;
      const before = earlier ?? Math.max(0, transferBytes - blockBytes);
      const bytesWritten = before + sent + VHD_FOOTER_SIZE;
      await azure('set blob metadata', where, () =>
        blob.setMetadata({
          ...metadata,
          // A source that published no checksum has it only now (its partial blob said `sha256:`,
          // so a retry after this commit finds no finished upload of its source and starts over).
          [SOURCE_CHECKSUM_KEY]: `${verified.algorithm}:${verified.hex.toLowerCase()}`,
          [DISK_SIZE_KEY]: String(sizeBytes),
          [BYTES_WRITTEN_KEY]: String(bytesWritten),
        }),
      );
      return { region, diskId, sizeBytes, bytesWritten, checksum: verified };
    },

    abort: () => removeOurs(blob, release.releaseToken, where),
  };
}

export interface CommittedUpload {
  sizeBytes: number;
  bytesWritten: number;
}

/** This run's blob when it is complete: committed marker, same source, the length and footer a VHD of that size has. */
export async function committedUpload(
  blob: PageBlobClient,
  properties: BlobGetPropertiesResponse,
  sourceChecksum: string,
  where: AzureStorageTarget,
): Promise<CommittedUpload | undefined> {
  const meta = properties.metadata ?? {};
  const sizeBytes = Number(meta[DISK_SIZE_KEY]);
  const bytesWritten = Number(meta[BYTES_WRITTEN_KEY]);
  const length = properties.contentLength ?? 0;
  if (
    properties.blobType !== 'PageBlob' ||
    meta[SOURCE_CHECKSUM_KEY] !== sourceChecksum ||
    !Number.isSafeInteger(sizeBytes) ||
    sizeBytes <= 0 ||
    length !== paddedVhdDiskSize(sizeBytes) + VHD_FOOTER_SIZE
  ) {
    return undefined;
  }
  const tail = await azure('read VHD footer', where, () =>
    blob.downloadToBuffer(length - VHD_FOOTER_SIZE, VHD_FOOTER_SIZE),
  );
  try {
    parseVhdFooter(tail, length - VHD_FOOTER_SIZE);
  } catch (error) {
    if (error instanceof VhdFooterInvalid) return undefined;
    throw error;
  }
  return { sizeBytes, bytesWritten: Number.isSafeInteger(bytesWritten) ? bytesWritten : 0 };
}

/** The upload is there already: the transfer only checks the source's checksum. */
function finishedWriter(
  input: OpenDiskWriterInput,
  diskId: string,
  finished: CommittedUpload,
  maxConcurrentWrites: number,
  abort: () => Promise<void>,
): DiskWriter {
  return {
    blockSize: BLOCK_SIZE,
    maxConcurrentWrites,
    zeroBlocksMayBeSkipped: true,
    resumeOffset: input.resumeFromOffset,
    async writeBlock() {},
    async commit(sizeBytes, _bytesWritten, verified) {
      if (sizeBytes !== finished.sizeBytes) {
        throw new Error(
          `${diskId} holds a ${finished.sizeBytes}-byte disk, but the source has ${sizeBytes} bytes`,
        );
      }
      return {
        region: input.region,
        diskId,
        sizeBytes,
        bytesWritten: finished.bytesWritten,
        checksum: verified ?? input.checksum,
      };
    },
    abort,
  };
}

/** The earlier attempts' bytes below `offset`, from their checkpoint; undefined when it does not say. */
function sentBelow(raw: WriterCheckpoint | undefined, offset: number): number | undefined {
  const checkpoint = raw as Partial<PageBlobCheckpoint> | undefined;
  if (checkpoint?.diskOffset !== offset || typeof checkpoint.sentBytes !== 'number') return undefined;
  return checkpoint.sentBytes;
}

/** Deletes the blob if (and only if) it still carries this run's token. */
async function removeOurs(
  blob: PageBlobClient,
  releaseToken: string,
  where: AzureStorageTarget,
): Promise<void> {
  const properties = await propertiesOf(blob, where);
  if (properties?.metadata?.[RELEASE_TOKEN_KEY] !== releaseToken) return;
  await azure('delete blob', where, () =>
    blob.deleteIfExists({ deleteSnapshots: 'include', conditions: { ifMatch: properties.etag } }),
  );
}

export async function propertiesOf(
  blob: PageBlobClient,
  where: AzureStorageTarget,
): Promise<BlobGetPropertiesResponse | undefined> {
  try {
    return await azure('read blob properties', where, () => blob.getProperties());
  } catch (error) {
    if (isBlobNotFound(error)) return undefined;
    throw error;
  }
}

/** Deterministic per run and blob: a retried commit writes the same footer (but for its time). */
function vhdUniqueId(releaseToken: string, blobName: string): Buffer {
  return createHash('sha256').update(`${releaseToken}/${blobName}`).digest().subarray(0, 16);
}

/** Metadata values travel as HTTP headers: printable ASCII only. */
function headerSafe(value: string): string {
  return /^[\x20-\x7e]*$/.test(value) ? value : encodeURIComponent(value);
}
