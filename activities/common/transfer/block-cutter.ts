/**
 * Cuts a stream of chunks into fixed-size blocks. Each block is a fresh buffer, because it
 * may still be in flight to the cloud while the next one fills.
 */
export async function* blocksOf(chunks: AsyncIterable<Buffer>, blockSize: number): AsyncGenerator<Buffer> {
  let block = Buffer.allocUnsafe(blockSize);
  let filled = 0;
  for await (const chunk of chunks) {
    let used = 0;
    while (used < chunk.length) {
      const n = Math.min(blockSize - filled, chunk.length - used);
      chunk.copy(block, filled, used, used + n);
      filled += n;
      used += n;
      if (filled === blockSize) {
        yield block;
        block = Buffer.allocUnsafe(blockSize);
        filled = 0;
      }
    }
  }
  if (filled > 0) yield block.subarray(0, filled);
}

const ZEROS = new Map<number, Buffer>();

/** memcmp against a shared zero buffer: the fastest check Node offers. */
export function isAllZero(block: Buffer): boolean {
  let zeros = ZEROS.get(block.length);
  if (!zeros) {
    zeros = Buffer.alloc(block.length);
    if (ZEROS.size < 4) ZEROS.set(block.length, zeros);
  }
  return block.equals(zeros);
}
