/**
 * Cuts a stream of chunks into `blockSize` blocks (the last one may be shorter). Each
 * block is a fresh buffer, because it may still be on its way to the cloud while the next
 * one fills.
 */
export async function* blocksOf(
  chunks: AsyncIterable<Uint8Array>,
  blockSize: number,
): AsyncGenerator<Buffer> {
  let block = Buffer.allocUnsafe(blockSize);
  let filled = 0;
  for await (const chunk of chunks) {
    let used = 0;
    while (used < chunk.length) {
      const n = Math.min(blockSize - filled, chunk.length - used);
      block.set(chunk.subarray(used, used + n), filled);
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

/** One zero buffer for every comparison, grown to the largest block seen. */
let zeros = Buffer.alloc(0);

/**
 * Whether a block is all zeros: a memcmp against a shared zero buffer, which runs at memory
 * speed, far faster than a JS loop over the bytes.
 */
export function isAllZero(block: Uint8Array): boolean {
  if (zeros.length < block.length) zeros = Buffer.alloc(block.length);
  return Buffer.compare(block, zeros.subarray(0, block.length)) === 0;
}
