import { spawn } from 'node:child_process';
import { Readable, Transform } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { createSHA256, createSHA512, type IHasher } from 'hash-wasm';
import type { DiskWriter, ResolvedImageSource, UploadedDisk } from '../../provider.js';
import { nonRetryable } from '../errors.js';
import { blocksOf, isAllZero } from './block-cutter.js';
import { openSourceStream } from './open-source.js';
import { WriteTracker } from './write-tracker.js';

/** Where a retried transfer picks up; only ever reported for blocks already written. */
export interface TransferResumeState {
  sourceOffset: number;
  diskOffset: number;
  /** Hash state after exactly `sourceOffset` source bytes (uncompressed sources only). */
  hashState?: string;
}

export interface TransferProgress {
  sourceBytesRead: number;
  sourceBytesTotal?: number;
  diskBytes: number;
  bytesWritten: number;
  resume: TransferResumeState;
}

export interface TransferInput {
  source: ResolvedImageSource;
  writer: DiskWriter;
  resume?: TransferResumeState;
  signal?: AbortSignal;
  onProgress?: (progress: TransferProgress) => void;
  progressIntervalMs?: number;
}

/**
 * Download → checksum → (decompress) → upload in one streaming pass with bounded memory:
 * at most `maxConcurrentWrites` blocks in flight, zero blocks skipped where the target reads
 * holes as zeros. The disk is committed only after the checksum matched.
 */
export async function transferImage(input: TransferInput): Promise<UploadedDisk> {
  const { source, writer, signal } = input;
  const hasher = await (source.checksum.algorithm === 'sha256' ? createSHA256() : createSHA512());
  const raw = source.compression === 'none';
  const resume = input.resume && input.resume.diskOffset > 0 ? input.resume : undefined;
  let sourceOffset = 0;
  hasher.init();
  if (resume && raw && resume.hashState) {
    hasher.load(Buffer.from(resume.hashState, 'base64'));
    sourceOffset = resume.sourceOffset;
  }
  const opened = await openSourceStream(source.url, sourceOffset, signal);
  if (sourceOffset > 0 && !opened.resumed) {
    // The server ignored the Range: hash from the start, but skip what is already written.
    hasher.init();
    sourceOffset = 0;
  }
  const skipBelow = resume?.diskOffset ?? 0;

  let sourceBytesRead = sourceOffset;
  const counted = opened.stream.pipe(
    new Transform({
      transform(chunk: Buffer, _encoding, done) {
        sourceBytesRead += chunk.length;
        if (!raw) hasher.update(chunk);
        done(null, chunk);
      },
    }),
  );
  const decompressed = decompress(counted, source.compression);
  const tracker = new WriteTracker(writer, sourceOffset);
  const hashStates = new Map<number, Uint8Array>();
  if (raw) hashStates.set(sourceOffset, hasher.save());
  let lastReport = 0;
  const report = (force = false) => {
    if (!input.onProgress || (!force && Date.now() - lastReport < (input.progressIntervalMs ?? 1000))) return;
    lastReport = Date.now();
    const done = tracker.contiguousEnd;
    const state = raw ? hashStates.get(done) : undefined;
    for (const key of hashStates.keys()) if (key < done) hashStates.delete(key);
    input.onProgress({
      sourceBytesRead,
      sourceBytesTotal: source.sizeBytes,
      diskBytes: tracker.nextOffset,
      bytesWritten: tracker.bytesWritten,
      // Without a hash state for `done` a retry re-reads from the start but rewrites nothing below it.
      resume: state
        ? { sourceOffset: done, diskOffset: done, hashState: Buffer.from(state).toString('base64') }
        : { sourceOffset: 0, diskOffset: done },
    });
  };

  try {
    for await (const block of blocksOf(decompressed.stream, writer.blockSize)) {
      if (signal?.aborted) throw signal.reason ?? new Error('transfer cancelled');
      const offset = tracker.nextOffset;
      if (raw) {
        hasher.update(block);
        hashStates.set(offset + block.length, hasher.save());
      }
      const skip = offset + block.length <= skipBelow || (writer.zeroBlocksMayBeSkipped && isAllZero(block));
      await tracker.submit(block, skip);
      report();
    }
    await tracker.drain();
    await decompressed.finished;
  } catch (error) {
    opened.stream.destroy();
    decompressed.kill();
    await tracker.drain().catch(() => undefined);
    throw error;
  }

  const actual = hasher.digest('hex');
  if (actual !== source.checksum.hex) {
    await writer.abort();
    throw nonRetryable(
      'ChecksumMismatch',
      `${source.fileName}: ${source.checksum.algorithm} is ${actual}, but its checksum file says ${source.checksum.hex}`,
    );
  }
  report(true);
  return writer.commit(tracker.nextOffset, tracker.bytesWritten);
}

/** Decompression in the stream: gzip in-process, xz by the `xz` tool (multi-threaded, fast). */
function decompress(input: Readable, compression: ResolvedImageSource['compression']) {
  if (compression === 'none') return { stream: input, finished: Promise.resolve(), kill() {} };
  if (compression === 'gz') {
    const gunzip = input.pipe(createGunzip());
    return { stream: gunzip, finished: Promise.resolve(), kill: () => gunzip.destroy() };
  }
  const xz = spawn('xz', ['--decompress', '--stdout', '--threads=0'], { stdio: ['pipe', 'pipe', 'pipe'] });
  input.pipe(xz.stdin);
  xz.stdin.on('error', () => undefined); // xz exiting early is reported through its exit code
  let stderr = '';
  xz.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const finished = new Promise<void>((resolve, reject) =>
    xz.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`xz failed (exit ${code}): ${stderr.trim()}`)))),
  );
  finished.catch(() => undefined);
  return { stream: xz.stdout, finished, kill: () => xz.kill('SIGKILL') };
}

export type { IHasher };
