import { Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { DiskWriter, ResolvedImageSource, UploadedDisk } from '../../provider.js';
import { nonRetryable } from '../errors.js';
import { blocksOf, isAllZero } from './block-cutter.js';
import { createDecompressor } from './decompress.js';
import { openSourceStream } from './open-source.js';
import { fastHasher, resumableHasher, type SourceHasher } from './source-hasher.js';
import { vhdFooterStripper } from './vhd-footer-strip.js';
import { WriteTracker } from './write-tracker.js';

/** Where a retried transfer picks up. Reported only for data already written. */
export interface TransferResumeState {
  /** Source bytes already hashed (0 for a compressed source: its retry reads from the start). */
  sourceOffset: number;
  /** Disk bytes durably written: every block below it is done. */
  diskOffset: number;
  /** base64 hash state after exactly `sourceOffset` source bytes (raw sources only). */
  hashState?: string;
  /** Bytes written below `diskOffset`, over every attempt (zero blocks skipped are not written). */
  bytesWritten?: number;
  /** base64 sha512 state of the served bytes after `sourceOffset` (only when asked for `servedSha512`). */
  servedHashState?: string;
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

export interface TransferInput {
  source: ResolvedImageSource;
  writer: DiskWriter;
  resume?: TransferResumeState;
  signal?: AbortSignal;
  onProgress?(progress: TransferProgress): void;
  progressIntervalMs?: number;
  /**
   * Also give the file's sha512 and size as served (image lists publish them), computed in
   * this same pass: a sha256 source is hashed twice over, never read twice.
   */
  servedSha512?: boolean;
}

/**
 * Download → checksum → (decompress) → upload, in one streaming pass with bounded memory:
 * every source byte is hashed on the way, the disk is cut into the writer's blocks, zero
 * blocks are skipped where the target reads holes as zeros, and at most
 * `maxConcurrentWrites` blocks are in flight. The disk is committed only when the checksum
 * matched; on a mismatch the writer is aborted. On `signal` the transfer stops reading,
 * lets in-flight writes finish and throws, leaving the partial upload for the caller.
 */
export async function transferImage(input: TransferInput): Promise<UploadedDisk> {
  const { source, writer, signal } = input;
  signal?.throwIfAborted();
  const raw = hashesBlocks(source);
  let start = await startingPoint(input);
  const opened = await openSourceStream(source.url, start.sourceOffset, signal, source.downloadAccount);
  if (opened.offset !== start.sourceOffset) {
    // The server ignored the Range and sends the whole file: hash it all again.
    start = await fromTheStart(source, start.skipBelow, start.writtenBefore, start.served !== undefined).catch((error: unknown) => {
      opened.stream.destroy();
      throw error;
    });
  }
  const { hasher, skipBelow } = start;
  // A sha512 source's own verified hash is the served sha512; a sha256 one needs a second hasher.
  const served = input.servedSha512 && source.checksum.algorithm !== 'sha512' ? start.served : undefined;
  const tracker = new WriteTracker(writer, opened.offset, start.writtenBefore);
  // Raw sources: the hash state at each block end not yet inside the written prefix.
  const hashStates = new Map<number, Uint8Array>();
  const servedStates = new Map<number, Uint8Array>();
  if (raw) hashStates.set(opened.offset, hasher.save!());
  if (raw && served) servedStates.set(opened.offset, served.save!());

  let sourceBytesRead = opened.offset;
  const progress = (): TransferProgress => {
    const done = tracker.contiguousEnd;
    const state = hashStates.get(done);
    const servedState = servedStates.get(done);
    // Without the served hash's state at `done`, a retry must read from the start to hash it all.
    const resumable = state && (!served || servedState);
    return {
      sourceBytesRead,
      sourceBytesTotal: source.sizeBytes ?? opened.totalBytes,
      diskBytes: tracker.nextOffset,
      bytesWritten: start.writtenBefore + tracker.bytesWritten,
      resume: resumable
        ? {
            sourceOffset: done,
            diskOffset: done,
            hashState: Buffer.from(state).toString('base64'),
            bytesWritten: tracker.prefixBytesWritten,
            ...(servedState && { servedHashState: Buffer.from(servedState).toString('base64') }),
          }
        : { sourceOffset: 0, diskOffset: done, bytesWritten: tracker.prefixBytesWritten },
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
      if (!raw) {
        hasher.update(chunk);
        served?.update(chunk);
      }
      maybeReport();
      done(null, chunk);
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
      if (raw) {
        hasher.update(block);
        hashStates.set(offset + block.length, hasher.save!());
        if (served) {
          served.update(block);
          servedStates.set(offset + block.length, served.save!());
        }
      }
      const alreadyWritten = offset + block.length <= skipBelow;
      await tracker.submit(block, alreadyWritten || (writer.zeroBlocksMayBeSkipped && isAllZero(block)));
      for (const end of hashStates.keys()) if (end < tracker.contiguousEnd) hashStates.delete(end);
      for (const end of servedStates.keys()) if (end < tracker.contiguousEnd) servedStates.delete(end);
      maybeReport();
    }
    signal?.throwIfAborted();
    const failed = await piping;
    if (failed) throw failed.error;
    await decompressor?.exited;
    await tracker.drain();
    signal?.throwIfAborted(); // cancelled while the last writes finished: do not commit
  } catch (error) {
    await tracker.settle();
    // Writes that finished while the failure unwound count: the retry resumes after them.
    input.onProgress?.(progress());
    throw await explainFailure(error, signal, decompressor?.exited);
  } finally {
    disk.destroy();
    await decompressor?.kill();
  }

  const actual = hasher.hex();
  const expected = source.checksum.hex.toLowerCase();
  if (actual !== expected) {
    const aborted = await writer.abort().then(
      () => '',
      (error: unknown) => ` (removing the partial upload failed too: ${(error as Error).message})`,
    );
    throw nonRetryable(
      'ChecksumMismatch',
      `${source.fileName}: its ${source.checksum.algorithm} is ${actual}, but its checksum file says ${expected}${aborted}`,
      { fileName: source.fileName, algorithm: source.checksum.algorithm, expected, actual },
    );
  }
  input.onProgress?.(progress());
  const committed = await writer.commit(tracker.nextOffset, start.writtenBefore + tracker.bytesWritten);
  if (!input.servedSha512) return committed;
  return { ...committed, served: { sizeBytes: sourceBytesRead, sha512: served ? served.hex() : actual } };
}

/**
 * A raw disk served uncompressed is hashed block by block (so its hash state can be saved at
 * each block and a retry continue mid-file); anything else as it arrives.
 */
function hashesBlocks(source: ResolvedImageSource): boolean {
  return source.compression === 'none' && source.format !== 'vhdfixed';
}

interface StartingPoint {
  sourceOffset: number;
  /** Blocks ending at or below this were written by an earlier attempt. */
  skipBelow: number;
  /** Bytes the earlier attempts wrote below `skipBelow`. */
  writtenBefore: number;
  hasher: SourceHasher;
  /** sha512 of the served bytes, when asked for and the source's own hash is not one. */
  served?: SourceHasher;
}

/**
 * Where this attempt starts. Only what the writer still holds counts as written. A raw
 * source with a matching hash state continues mid-file; anything else reads the source
 * from the start (a compressed stream cannot be entered mid-way) and skips the blocks the
 * earlier attempt wrote.
 */
async function startingPoint({ source, writer, resume, servedSha512 }: TransferInput): Promise<StartingPoint> {
  const wantsServed = servedSha512 === true && source.checksum.algorithm !== 'sha512';
  const held = resume ? Math.max(0, Math.min(resume.diskOffset, writer.resumeOffset)) : 0;
  const writtenBefore = held > 0 && held === resume?.diskOffset ? (resume.bytesWritten ?? 0) : 0;
  const resumable =
    hashesBlocks(source) &&
    resume?.hashState !== undefined &&
    held > 0 &&
    held === resume.diskOffset &&
    held === resume.sourceOffset &&
    held % writer.blockSize === 0 &&
    (!wantsServed || resume.servedHashState !== undefined);
  if (resumable) {
    try {
      const hasher = await resumableHasher(
        source.checksum.algorithm,
        Buffer.from(resume.hashState!, 'base64'),
      );
      const served = wantsServed
        ? await resumableHasher('sha512', Buffer.from(resume.servedHashState!, 'base64'))
        : undefined;
      return { sourceOffset: held, skipBelow: held, writtenBefore, hasher, ...(served && { served }) };
    } catch {
      // Not a state this hasher can load (another algorithm, a damaged heartbeat): start over.
    }
  }
  return fromTheStart(source, held, writtenBefore, wantsServed);
}

async function fromTheStart(
  source: ResolvedImageSource,
  skipBelow: number,
  writtenBefore: number,
  wantsServed: boolean,
): Promise<StartingPoint> {
  const algorithm = source.checksum.algorithm;
  const hasherOf = (a: typeof algorithm) => (hashesBlocks(source) ? resumableHasher(a) : fastHasher(a));
  const hasher = await hasherOf(algorithm);
  const served = wantsServed ? await hasherOf('sha512') : undefined;
  return { sourceOffset: 0, skipBelow, writtenBefore, hasher, ...(served && { served }) };
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
