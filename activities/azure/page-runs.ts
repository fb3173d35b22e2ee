import { isAllZero } from '../common/transfer/block-cutter.js';

/** Page blobs are written in 512-byte pages, at 512-byte offsets. */
export const PAGE_SIZE = 512;

/**
 * Zero gaps inside a block shorter than this are sent rather than skipped. Every skip costs a
 * request of its own; in-region a request costs about a round trip (~1 ms), which is what
 * 64 KiB takes to send at a blob's ~60 MiB/s. Longer gaps are cheaper skipped, and pages
 * never written are not billed.
 */
export const MIN_SKIPPED_ZERO_RUN = 64 * 1024;

/** The block, zero-padded to whole pages (only a disk's last block can be short). */
export function padToPages(block: Buffer): Buffer {
  const rest = block.length % PAGE_SIZE;
  if (rest === 0) return block;
  const padded = Buffer.alloc(block.length + PAGE_SIZE - rest);
  block.copy(padded);
  return padded;
}

/**
 * The page-aligned [start, end) ranges of a whole-page block that must be written: every
 * page that is not all zeros, with zero gaps between them kept unless at least `minZeroRun`
 * long. Leading and trailing zero pages are always left out (that costs no extra request).
 * An all-zero block yields no range.
 */
export function nonZeroPageRuns(block: Buffer, minZeroRun = MIN_SKIPPED_ZERO_RUN): Array<[number, number]> {
  if (block.length % PAGE_SIZE !== 0) throw new RangeError(`a ${block.length}-byte block is not whole pages`);
  const runs: Array<[number, number]> = [];
  let runStart = -1;
  /** Where the zero pages after the current run began, or -1 after a data page. */
  let zeroStart = -1;
  for (let at = 0; at < block.length; at += PAGE_SIZE) {
    if (isAllZero(block.subarray(at, at + PAGE_SIZE))) {
      if (zeroStart < 0) zeroStart = at;
      continue;
    }
    if (runStart < 0) runStart = at;
    else if (zeroStart >= 0 && at - zeroStart >= minZeroRun) {
      runs.push([runStart, zeroStart]);
      runStart = at;
    }
    zeroStart = -1;
  }
  if (runStart >= 0) runs.push([runStart, zeroStart >= 0 ? zeroStart : block.length]);
  return runs;
}
