import { Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { DiskWriter, ResolvedImageSource, UploadedDisk } from '../../provider.js';
import { nonRetryable } from '../errors.js';
import { blocksOf, isAllZero } from './block-cutter.js';
import { createDecompressor } from './decompress.js';
import { openSourceStream } from './open-source.js';
import { digestOfSavedState, sourceHasher } from './source-hasher.js';
import { threadedHasher } from './threaded-hasher.js';
import { vhdFooterStripper } from './vhd-footer-strip.js';
import { WriteTracker } from './write-tracker.js';

/** Where a retried transfer picks up. Reported only for data already written. */
export interface TransferResumeState {
  /**
   * Where the retry starts reading the source: always 0 (node:crypto cannot save a hash's
   * state, so the retry re-reads and re-hashes what was uploaded, uploading none of it again).
   * Heartbeats of earlier versions carry the offset their `hashState` was saved at.
   */
  sourceOffset: number;
  /** Disk bytes durably written: every block below it is done. */
  diskOffset: number;
  /**
   * Raw sources: the hex digest (the source's checksum algorithm) of the first `diskOffset`
   * bytes, i.e. of what was uploaded. The retry re-reads them and must find the same digest,
   * so the uploaded prefix is proven to be the bytes the final checksum covers.
   */
  prefixChecksum?: string;
  /** Earlier versions only (read, never written): base64 hash-wasm state after `sourceOffset` bytes. */
  hashState?: string;
  /** Bytes written below `diskOffset`, over every attempt (zero blocks skipped are not written). */
  bytesWritten?: number;
}

export interface TransferProgress {
  sourceBytesRead: number;
  sourceBytesTotal?: number;
  /** Disk bytes produced so far (after decompression). */
  diskBytes: number;
  /** Bytes sent to the writer, earlier attempts' included (zero blocks not counted). */
  bytesWritten: number;
  /** Safe to persist (in a heartbeat) and pass back as `resume`. */
  resume: TransferResumeState;
}

type Algorithm = ResolvedImageSource['checksum']['algorithm'];

export interface TransferInput {
  source: ResolvedImageSource;
  writer: DiskWriter;
  resume?: TransferResumeState;
  signal?: AbortSignal;
  onProgress?(progress: TransferProgress): void;
  progressIntervalMs?: number;
  /** A second digest of the source bytes, computed in the same pass (the raw upload's sha512). */
  extraDigest?: Algorithm;
}

export type TransferredDisk = UploadedDisk & {
  /** The hex digest asked for as `extraDigest`, of every source byte (re-read ones included). */
  extraDigestHex?: string;
  /** Bytes of the file as served (before decompression): the source is always read whole. */
  sourceBytesRead: number;
};

/**
 * Download → checksum → (decompress) → upload, in one streaming pass with bounded memory:
 * every source byte is hashed on the way, the disk is cut into the writer's blocks, zero
 * blocks are skipped where the target reads holes as zeros, and at most
 * `maxConcurrentWrites` blocks are in flight. The disk is committed only when the checksum
 * matched; on a mismatch the writer is aborted. A source that published no checksum
 * (`checksumFrom: 'stream'`, empty hex) is committed with the digest computed here. On
 * `signal` the transfer stops reading, lets in-flight writes finish and throws, leaving the
 * partial upload for the caller.
 * A retry reads the source from its start and skips (does not write again) the blocks the
 * writer still holds; for a raw source it first checks that those bytes are the ones uploaded.
 */
export async function transferImage(input: TransferInput): Promise<TransferredDisk> {
  const { source, writer, signal } = input;
  signal?.throwIfAborted();
  const raw = hashesBlocks(source);
  const { skipBelow, writtenBefore, prefixChecksum } = await startingPoint(input);
  const computes = computesChecksum(source);
  // No published checksum: only the object resolved may be read (its ETag), so every attempt
  // reads the same bytes; a published checksum proves that by itself.
  const etag = source.checksumFrom === 'stream' ? source.etag : undefined;
  const opened = await openSourceStream(source.url, 0, signal, source.downloadAccount, etag);
  const hasher = sourceHasher(source.checksum.algorithm);
  const extra = input.extraDigest ? threadedHasher(input.extraDigest) : undefined;
  const tracker = new WriteTracker(writer, 0, writtenBefore);
  // Raw sources: the digest of the source up to each block end not yet inside the written prefix.
  const prefixDigests = new Map<number, string>();

  let sourceBytesRead = 0;
  const progress = (): TransferProgress => {
    const done = tracker.contiguousEnd;
    const digest = done > 0 ? prefixDigests.get(done) : undefined;
    return {
      sourceBytesRead,
      sourceBytesTotal: source.sizeBytes ?? opened.totalBytes,
      diskBytes: tracker.nextOffset,
      bytesWritten: writtenBefore + tracker.bytesWritten,
      resume: {
        sourceOffset: 0,
        diskOffset: done,
        ...(digest && { prefixChecksum: digest }),
        bytesWritten: tracker.prefixBytesWritten,
      },
    };
  };
  const interval = input.progressIntervalMs ?? 1000;
  let lastReport = Date.now();
  const maybeReport = () => {
    if (!input.onProgress || Date.now() - lastReport < interval) return;
    lastReport = Date.now();
    input.onProgress(progress());
  };

  const meter = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      sourceBytesRead += chunk.length;
      maybeReport();
      if (raw) return done(null, chunk);
      hasher.update(chunk);
      if (!extra) return done(null, chunk);
      extra.update(chunk).then(() => done(null, chunk), done);
    },
  });
  const decompressor = createDecompressor(source.compression);
  const stages: Array<Readable | Transform> = [
    opened.stream,
    meter,
    ...(decompressor ? [decompressor.stream] : []),
    ...(source.format === 'vhdfixed' ? [vhdFooterStripper(source.fileName)] : []),
  ];
  const disk = stages[stages.length - 1]!;
  // The pipeline forwards any stage's failure to the others; `disk` is consumed below.
  const piping = pipeline(stages).then(
    () => undefined,
    (error: unknown) => ({ error }),
  );

  try {
    for await (const block of blocksOf(disk, writer.blockSize)) {
      if (signal?.aborted) break;
      const offset = tracker.nextOffset;
      const end = offset + block.length;
      if (raw) {
        hasher.update(block);
        await extra?.update(block);
        prefixDigests.set(end, hasher.digestSoFar());
        if (prefixChecksum !== undefined && end === skipBelow && prefixDigests.get(end) !== prefixChecksum) {
          throw await checksumMismatch(
            source,
            writer,
            `its first ${end} bytes (re-read to resume the upload) now have the ${source.checksum.algorithm} ${prefixDigests.get(end)}, but the bytes uploaded before had ${prefixChecksum}: ${source.fileName} changed at its source during the release`,
            { actual: prefixDigests.get(end)!, expected: prefixChecksum },
          );
        }
      }
      const alreadyWritten = end <= skipBelow;
      await tracker.submit(block, alreadyWritten || (writer.zeroBlocksMayBeSkipped && isAllZero(block)));
      for (const at of prefixDigests.keys()) if (at < tracker.contiguousEnd) prefixDigests.delete(at);
      maybeReport();
    }
    signal?.throwIfAborted();
    const failed = await piping;
    if (failed) throw failed.error;
    await decompressor?.exited;
    await tracker.drain();
    signal?.throwIfAborted(); // cancelled while the last writes finished: do not commit
  } catch (error) {
    await extra?.close();
    await tracker.settle();
    // Writes that finished while the failure unwound count: the retry resumes after them.
    input.onProgress?.(progress());
    throw await explainFailure(error, signal, decompressor?.exited);
  } finally {
    disk.destroy();
    await decompressor?.kill();
  }

  const actual = hasher.hex();
  const extraDigestHex = await extra?.hex();
  const expected = source.checksum.hex.toLowerCase();
  if (!computes && actual !== expected) {
    const says =
      source.checksumFrom === 'stream' ? 'an earlier read of it computed' : 'its checksum file says';
    throw await checksumMismatch(
      source,
      writer,
      `its ${source.checksum.algorithm} is ${actual}, but ${says} ${expected}`,
      { actual, expected },
    );
  }
  // Verified (the published one, as it always was), or computed here: the one the disk records.
  const checksum = computes ? { algorithm: source.checksum.algorithm, hex: actual } : source.checksum;
  input.onProgress?.(progress());
  const uploaded = await writer.commit(tracker.nextOffset, writtenBefore + tracker.bytesWritten, checksum);
  return {
    ...uploaded,
    // Writers that record no checksum (the raw upload's) still hand the computed one back.
    ...(computes && { checksum }),
    sourceBytesRead,
    ...(extraDigestHex && { extraDigestHex }),
  };
}

/**
 * A source that published no checksum, not yet read: this pass computes its digest and has
 * nothing to compare it with. A retry still checks the prefix it re-reads against the
 * heartbeat's `prefixChecksum` (raw sources), as for every source.
 */
export function computesChecksum(source: ResolvedImageSource): boolean {
  return source.checksumFrom === 'stream' && source.checksum.hex === '';
}

/** Removes the partial upload and says why: the verdict that fails the release. */
async function checksumMismatch(
  source: ResolvedImageSource,
  writer: DiskWriter,
  why: string,
  { actual, expected }: { actual: string; expected: string },
): Promise<Error> {
  const aborted = await writer.abort().then(
    () => '',
    (error: unknown) => ` (removing the partial upload failed too: ${(error as Error).message})`,
  );
  return nonRetryable('ChecksumMismatch', `${source.fileName}: ${why}${aborted}`, {
    fileName: source.fileName,
    algorithm: source.checksum.algorithm,
    expected,
    actual,
  });
}

/**
 * A raw disk served uncompressed is hashed block by block (so the digest of the uploaded
 * prefix is known at each block end); anything else as it arrives.
 */
function hashesBlocks(source: ResolvedImageSource): boolean {
  return source.compression === 'none' && source.format !== 'vhdfixed';
}

interface StartingPoint {
  /** Blocks ending at or below this were written by an earlier attempt. */
  skipBelow: number;
  /** Bytes the earlier attempts wrote below `skipBelow`. */
  writtenBefore: number;
  /** What the source's first `skipBelow` bytes must hash to (raw sources, when known). */
  prefixChecksum?: string;
}

/**
 * Where this attempt starts writing. Only what the writer still holds counts as written.
 * The source is always read from its start (a compressed stream cannot be entered mid-way,
 * and node:crypto's hash state cannot be saved); the blocks the earlier attempt wrote are
 * skipped. Reading again costs the download of the prefix, no upload: measured in
 * docs/benchmarks.md against keeping a saveable (hash-wasm) state on every transfer.
 */
async function startingPoint({ source, writer, resume }: TransferInput): Promise<StartingPoint> {
  const held = resume ? Math.max(0, Math.min(resume.diskOffset, writer.resumeOffset)) : 0;
  const whole = held > 0 && held === resume?.diskOffset;
  const writtenBefore = whole ? (resume.bytesWritten ?? 0) : 0;
  if (!whole || !hashesBlocks(source)) return { skipBelow: held, writtenBefore };
  if (resume.prefixChecksum !== undefined)
    return { skipBelow: held, writtenBefore, prefixChecksum: resume.prefixChecksum };
  // An earlier version's heartbeat: its saved hash state is the prefix's digest.
  const legacy =
    resume.hashState !== undefined && resume.sourceOffset === held
      ? await digestOfSavedState(source.checksum.algorithm, Buffer.from(resume.hashState, 'base64'))
      : undefined;
  return { skipBelow: held, writtenBefore, ...(legacy && { prefixChecksum: legacy }) };
}

/** Stream errors that are symptoms of the decompressor dying, not causes. */
const BROKEN_PIPE = new Set(['EPIPE', 'ERR_STREAM_PREMATURE_CLOSE', 'ERR_STREAM_DESTROYED', 'EOF']);

/** The error that says what happened: the cancellation, or xz's own complaint over a broken pipe. */
async function explainFailure(
  error: unknown,
  signal: AbortSignal | undefined,
  decompressorExited?: Promise<void>,
): Promise<unknown> {
  if (signal?.aborted) {
    return signal.reason instanceof Error
      ? signal.reason
      : new Error(`transfer aborted: ${String(signal.reason)}`);
  }
  if (decompressorExited && BROKEN_PIPE.has((error as NodeJS.ErrnoException).code ?? '')) {
    const verdict = await Promise.race([
      decompressorExited.then(
        () => undefined,
        (xzError: unknown) => xzError,
      ),
      new Promise<undefined>((resolve) => setTimeout(() => resolve(undefined), 1000).unref()),
    ]);
    if (verdict) return verdict;
  }
  return error;
}
