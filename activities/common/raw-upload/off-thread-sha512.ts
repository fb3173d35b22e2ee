import { Worker } from 'node:worker_threads';

/**
 * sha512 on a worker thread, so hashing overlaps the upload instead of stalling the event
 * loop (on this project's bench machine hash-wasm's sha512 runs at ~90 MiB/s: inline, every
 * 16 MiB block held the uploads in flight for ~180 ms). Blocks are copied to the thread in
 * order; the state after a block is asked for with its end offset and arrives a little later.
 * Throws (on load) a state that is not one of hash-wasm's sha512.
 */
export class OffThreadSha512 {
  private readonly worker: Worker;
  private readonly ready: Promise<void>;
  private failure: Error | undefined;
  private readonly saved = new Map<number, Uint8Array>();
  private digestWaiter: ((hex: string) => void) | undefined;

  constructor(state?: Uint8Array) {
    this.worker = new Worker(new URL('./sha512-thread.js', import.meta.url), { workerData: { state } });
    this.worker.unref();
    this.ready = new Promise((resolve, reject) => {
      this.worker.once('error', (error) => {
        this.failure = error;
        reject(error);
      });
      this.worker.on(
        'message',
        (message: { type: string; offset?: number; state?: Uint8Array; hex?: string }) => {
          if (message.type === 'ready') resolve();
          else if (message.type === 'saved') this.saved.set(message.offset!, message.state!);
          else if (message.type === 'digest') this.digestWaiter?.(message.hex!);
        },
      );
    });
  }

  /** Resolves once the thread has loaded the state it was given (or rejects why it could not). */
  started(): Promise<void> {
    return this.ready;
  }

  /** Hashes a copy of `block` (the caller keeps sending the original), then saves the state as `endOffset`'s. */
  update(block: Uint8Array, endOffset: number): void {
    if (this.failure) throw this.failure;
    const copy = new Uint8Array(block);
    this.worker.postMessage({ type: 'update', data: copy }, [copy.buffer]);
    this.worker.postMessage({ type: 'save', offset: endOffset });
  }

  /** The state after `offset` bytes, once the thread got there; states below it are dropped. */
  stateAt(offset: number): Uint8Array | undefined {
    for (const end of this.saved.keys()) if (end < offset) this.saved.delete(end);
    return this.saved.get(offset);
  }

  async hex(): Promise<string> {
    await this.ready;
    const hex = new Promise<string>((resolve) => (this.digestWaiter = resolve));
    this.worker.postMessage({ type: 'digest' });
    return hex;
  }

  async close(): Promise<void> {
    await this.worker.terminate();
  }
}
