import type { DiskWriter } from '../../provider.js';

/**
 * Hands blocks to the writer with at most `maxConcurrentWrites` in flight (bounded memory)
 * and knows the contiguous prefix of the disk that is durably written: writes finish out
 * of order, and only that prefix is a safe place for a retry to resume from.
 */
export class WriteTracker {
  /** Disk offset of the next block. */
  nextOffset: number;
  /** Bytes this transfer sent to the writer (skipped blocks not counted). */
  bytesWritten = 0;
  /** Every block below this offset is written (or needs no writing). */
  contiguousEnd: number;
  /**
   * Bytes written inside the contiguous prefix, counting earlier attempts (`writtenBefore`):
   * what a resumed upload has written in total once it reaches the end.
   */
  prefixBytesWritten: number;
  /** Most writes that were in flight at once. */
  peakInFlight = 0;
  private readonly limit: number;
  private readonly inFlight = new Set<Promise<void>>();
  /** Completed blocks beyond the prefix: offset → end and bytes written. */
  private readonly completedAhead = new Map<number, { end: number; written: number }>();
  private failure: { error: unknown } | undefined;

  constructor(
    private readonly writer: DiskWriter,
    startOffset: number,
    writtenBefore = 0,
  ) {
    this.nextOffset = startOffset;
    this.contiguousEnd = startOffset;
    this.prefixBytesWritten = writtenBefore;
    this.limit = Math.max(1, Math.floor(writer.maxConcurrentWrites));
  }

  /**
   * Queues the next block (or marks it done when `skip`), then waits until another write
   * may start. Throws the first write failure.
   */
  async submit(block: Buffer, skip: boolean): Promise<void> {
    this.throwIfFailed();
    const offset = this.nextOffset;
    const end = offset + block.length;
    this.nextOffset = end;
    if (skip) return this.complete(offset, end, 0);

    const write = this.writer.writeBlock(offset, block).then(
      () => {
        this.bytesWritten += block.length;
        this.complete(offset, end, block.length);
      },
      (error: unknown) => {
        this.failure ??= { error };
      },
    );
    const tracked: Promise<void> = write.finally(() => this.inFlight.delete(tracked));
    this.inFlight.add(tracked);
    this.peakInFlight = Math.max(this.peakInFlight, this.inFlight.size);
    while (this.inFlight.size >= this.limit && !this.failure) await Promise.race(this.inFlight);
    this.throwIfFailed();
  }

  /** Waits for every write; throws the first failure. */
  async drain(): Promise<void> {
    await this.settle();
    this.throwIfFailed();
  }

  /** Waits for every write, failed or not (on the way out of a failed transfer). */
  async settle(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.all(this.inFlight);
  }

  private throwIfFailed(): void {
    if (this.failure) throw this.failure.error;
  }

  private complete(offset: number, end: number, written: number): void {
    this.completedAhead.set(offset, { end, written });
    for (
      let next = this.completedAhead.get(this.contiguousEnd);
      next !== undefined;
      next = this.completedAhead.get(this.contiguousEnd)
    ) {
      this.completedAhead.delete(this.contiguousEnd);
      this.contiguousEnd = next.end;
      this.prefixBytesWritten += next.written;
    }
  }
}
