import { Worker } from 'node:worker_threads';

/**
 * A second digest of the bytes streaming past (the raw upload's sha512), computed on a worker
 * thread so that it overlaps the upload instead of holding the event loop: node:crypto's
 * sha512 costs ~2 s of CPU per GiB on the bench machine (no SHA-512 instructions), about 14 %
 * of a loopback S3 upload when paid inline, while the main thread and the object store leave
 * part of the second core idle. Blocks are copied to the thread (a memcpy, ~0.1 s per GiB);
 * at most `maxQueuedBytes` wait there, so memory stays bounded when the thread falls behind.
 */
export interface ThreadedHasher {
  /** Queues a copy of `data`; resolves at once unless the thread is `maxQueuedBytes` behind. */
  update(data: Uint8Array): Promise<void>;
  /** The digest of everything queued, once the thread has hashed it all; ends the thread. */
  hex(): Promise<string>;
  /** Ends the thread without a digest (a failed transfer). */
  close(): Promise<void>;
}

export function threadedHasher(
  algorithm: 'sha256' | 'sha512',
  maxQueuedBytes = 64 * 1024 * 1024,
): ThreadedHasher {
  const worker = new Worker(new URL('./hash-thread.js', import.meta.url), { workerData: { algorithm } });
  let queued = 0;
  let failure: Error | undefined;
  let closed = false;
  const refuseIfClosed = () => {
    if (closed) throw new Error(`the ${algorithm} thread was closed`);
    if (failure) throw failure;
  };
  let caughtUp: (() => void) | undefined;
  let digested: ((hex: string) => void) | undefined;
  const failed = new Promise<never>((_, reject) => {
    const fail = (error: Error) => {
      failure = error;
      reject(error);
    };
    worker.once('error', fail);
    worker.once('exit', (code) => {
      if (!digested) fail(new Error(`the ${algorithm} thread ended (exit code ${code}) before the digest`));
    });
  });
  failed.catch(() => undefined); // observed by update()/hex(), which race against it
  worker.on('message', (message: { type: 'hashed'; bytes: number } | { type: 'digest'; hex: string }) => {
    if (message.type === 'hashed') {
      queued -= message.bytes;
      if (queued <= maxQueuedBytes / 2) caughtUp?.();
    } else digested?.(message.hex);
  });

  return {
    async update(data) {
      refuseIfClosed();
      const copy = new Uint8Array(data);
      queued += copy.byteLength;
      worker.postMessage({ type: 'update', data: copy }, [copy.buffer]);
      if (queued <= maxQueuedBytes) return;
      await Promise.race([new Promise<void>((resolve) => (caughtUp = resolve)), failed]);
      caughtUp = undefined;
    },
    async hex() {
      refuseIfClosed();
      closed = true;
      const hex = new Promise<string>((resolve) => (digested = resolve));
      worker.postMessage({ type: 'digest' });
      const result = await Promise.race([hex, failed]);
      await worker.terminate();
      return result;
    },
    async close() {
      closed = true;
      digested ??= () => undefined; // an exit now is expected
      await worker.terminate();
    },
  };
}
