import type { DiskWriter, WriterCheckpoint } from '../../provider.js';
import { resumableHasher } from '../transfer/source-hasher.js';
import { OffThreadSha512 } from './off-thread-sha512.js';

/**
 * Wraps an object writer so the one streaming pass also yields the object's sha512 (for
 * sources whose checksum file is sha256; a sha512 source's sum is the transfer's own). The
 * transfer hands blocks over in file order (WriteTracker calls writeBlock in order, then
 * awaits), so handing each block to the hash thread at the call keeps the hash in order
 * while parts upload in parallel; the hash runs beside the upload, not in its way.
 * The hash state at every block end is kept until the checkpoint passes it: a retry loads
 * the state at its resume offset, which is exactly where the writer's own upload stands,
 * and the hash continues without reading the earlier bytes again. The commit's checksum is
 * the sha512.
 */
export async function withSha512(
  inner: DiskWriter,
  checkpoint: WriterCheckpoint | undefined,
): Promise<DiskWriter & { close(): Promise<void> }> {
  const start = inner.resumeOffset;
  const saved =
    start > 0 && typeof checkpoint?.sha512State === 'string'
      ? Buffer.from(checkpoint.sha512State, 'base64')
      : undefined;
  // The activity resumes only with a loadable state (see savedSha512State); this guards that promise.
  if (start > 0 && !saved) throw new Error('internal: resuming an object upload without its sha512 state');
  const hasher = new OffThreadSha512(saved);
  await hasher.started().catch(async (error: unknown) => {
    await hasher.close();
    throw error;
  });
  let hashedTo = start;
  return {
    blockSize: inner.blockSize,
    maxConcurrentWrites: inner.maxConcurrentWrites,
    zeroBlocksMayBeSkipped: false,
    resumeOffset: start,
    writeBlock(offset, block) {
      if (offset !== hashedTo)
        return Promise.reject(
          new Error(`internal: block at ${offset} handed over out of order (hashed to ${hashedTo})`),
        );
      hashedTo += block.length;
      hasher.update(block, hashedTo);
      return inner.writeBlock(offset, block);
    },
    checkpoint(diskOffset) {
      // The thread may not have reached diskOffset yet (rare: hashing outruns uploading): then
      // the heartbeat carries no state, and a retry from it starts over rather than guess.
      const state = diskOffset === start && saved ? saved : hasher.stateAt(diskOffset);
      const own = inner.checkpoint?.(diskOffset);
      return { ...own, ...(state && { sha512State: Buffer.from(state).toString('base64') }) };
    },
    async commit(sizeBytes, bytesWritten) {
      const disk = await inner.commit(sizeBytes, bytesWritten);
      return { ...disk, checksum: { algorithm: 'sha512', hex: await hasher.hex() } };
    },
    abort: () => inner.abort(),
    close: () => hasher.close(),
  };
}

/** The sha512 state a heartbeat carries, when it is one this hasher can load (else the upload starts over). */
export async function savedSha512State(
  checkpoint: WriterCheckpoint | undefined,
): Promise<string | undefined> {
  const state = checkpoint?.sha512State;
  if (typeof state !== 'string') return undefined;
  try {
    await resumableHasher('sha512', Buffer.from(state, 'base64'));
    return state;
  } catch {
    return undefined;
  }
}
