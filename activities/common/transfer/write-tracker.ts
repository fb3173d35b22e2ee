import type { DiskWriter } from '../../provider.js';

/**
 * Hands blocks to the writer with at most `maxConcurrentWrites` in flight (bounded memory)
 * and knows the contiguous prefix of the disk that is durably written — writes finish out
 * of order, and only that prefix is a safe place to resume from.
 */
export class WriteTracker {
  nextOffset: number;
  bytesWritten = 0;
  contiguousEnd: number;
  private readonly inFlight = new Set<Promise<void>>();
  private readonly finished = new Map<number, number>(); // offset → end, beyond the prefix
  private failure: unknown;

  constructor(
    private readonly writer: DiskWriter,
    startOffset: number,
  ) {
    this.nextOffset = startOffset;
    this.contiguousEnd = startOffset;
  }

  async submit(block: Buffer, skip: boolean): Promise<void> {
    if (this.failure) throw this.failure;
    const offset = this.nextOffset;
    const end = offset + block.length;
    this.nextOffset = end;
    if (skip) return this.complete(offset, end);
    const write = this.writer.writeBlock(offset, block).then(
      () => {
        this.bytesWritten += block.length;
        this.complete(offset, end);
      },
      (error: unknown) => {
        this.failure ??= error;
      },
    );
    const tracked = write.finally(() => this.inFlight.delete(tracked));
    this.inFlight.add(tracked);
    while (this.inFlight.size >= this.writer.maxConcurrentWrites) await Promise.race(this.inFlight);
    if (this.failure) throw this.failure;
  }

  async drain(): Promise<void> {
    await Promise.all(this.inFlight);
    if (this.failure) throw this.failure;
  }

  private complete(offset: number, end: number): void {
    this.finished.set(offset, end);
    let next = this.finished.get(this.contiguousEnd);
    while (next !== undefined) {
      this.finished.delete(this.contiguousEnd);
      this.contiguousEnd = next;
      next = this.finished.get(this.contiguousEnd);
    }
  }
}
