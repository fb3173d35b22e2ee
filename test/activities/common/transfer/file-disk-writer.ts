import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { open, rm, type FileHandle } from 'node:fs/promises';
import type { DiskWriter, UploadedDisk } from '../../../../activities/provider.js';

export interface FileDiskWriterOptions {
  blockSize: number;
  maxConcurrentWrites: number;
  zeroBlocksMayBeSkipped: boolean;
  /** What an earlier attempt left in the file (0: nothing). */
  resumeOffset?: number;
  /** Each write waits up to this long first, so writes overlap and finish out of order. */
  maxWriteDelayMs?: number;
  checksum?: UploadedDisk['checksum'];
}

/**
 * A DiskWriter over a real sparse file, written by position: what a cloud's block API does,
 * on this machine. Records what the transfer did to it so tests can check the contract.
 */
export class FileDiskWriter implements DiskWriter {
  readonly blockSize: number;
  readonly maxConcurrentWrites: number;
  readonly zeroBlocksMayBeSkipped: boolean;
  readonly resumeOffset: number;
  inFlight = 0;
  peakInFlight = 0;
  /** Offsets of completed writes, in completion order. */
  readonly written: number[] = [];
  committed?: { sizeBytes: number; bytesWritten: number };
  aborted = false;

  private constructor(
    readonly path: string,
    private readonly file: FileHandle,
    private readonly options: FileDiskWriterOptions,
  ) {
    this.blockSize = options.blockSize;
    this.maxConcurrentWrites = options.maxConcurrentWrites;
    this.zeroBlocksMayBeSkipped = options.zeroBlocksMayBeSkipped;
    this.resumeOffset = options.resumeOffset ?? 0;
  }

  /** Opens `path`, keeping what is in it (an earlier attempt's blocks). */
  static async open(path: string, options: FileDiskWriterOptions): Promise<FileDiskWriter> {
    return new FileDiskWriter(path, await open(path, existsSync(path) ? 'r+' : 'w+'), options);
  }

  async writeBlock(offset: number, block: Buffer): Promise<void> {
    if (offset % this.blockSize !== 0)
      throw new Error(`block at ${offset} is not aligned to ${this.blockSize}`);
    if (block.length > this.blockSize) throw new Error(`block at ${offset} is ${block.length} bytes`);
    this.inFlight++;
    this.peakInFlight = Math.max(this.peakInFlight, this.inFlight);
    try {
      const delay = this.options.maxWriteDelayMs ?? 0;
      if (delay > 0) await new Promise((resolve) => setTimeout(resolve, randomBytes(1)[0]! % (delay + 1)));
      await this.file.write(block, 0, block.length, offset);
      this.written.push(offset);
    } finally {
      this.inFlight--;
    }
  }

  async commit(sizeBytes: number, bytesWritten: number): Promise<UploadedDisk> {
    // Skipped zero blocks at the end still belong to the disk: a sparse tail.
    await this.file.truncate(sizeBytes);
    await this.file.close();
    this.committed = { sizeBytes, bytesWritten };
    return {
      region: 'here',
      diskId: this.path,
      sizeBytes,
      bytesWritten,
      checksum: this.options.checksum ?? { algorithm: 'sha256', hex: '' },
    };
  }

  async abort(): Promise<void> {
    this.aborted = true;
    await this.file.close().catch(() => undefined);
    await rm(this.path, { force: true });
  }

  /** Lets go of the file without committing (an attempt that died). */
  async close(): Promise<void> {
    await this.file.close().catch(() => undefined);
  }
}

/**
 * A raw disk of `blocks` blocks where every `dataEvery`-th block holds random bytes and the
 * rest are zeros, like a fresh cloud image; plus the offsets of its data blocks.
 */
export async function writeTestDisk(
  path: string,
  { blocks, blockSize, dataEvery }: { blocks: number; blockSize: number; dataEvery: number },
): Promise<Set<number>> {
  const file = await open(path, 'w');
  const dataBlocks = new Set<number>();
  try {
    await file.truncate(blocks * blockSize);
    for (let b = 0; b < blocks; b += dataEvery) {
      await file.write(randomBytes(blockSize), 0, blockSize, b * blockSize);
      dataBlocks.add(b * blockSize);
    }
  } finally {
    await file.close();
  }
  return dataBlocks;
}
