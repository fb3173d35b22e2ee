// The worker thread behind OffThreadSha512: hash-wasm's sha512 (its state can be saved and
// loaded), fed the blocks in order. Messages are handled in arrival order.
import { parentPort, workerData } from 'node:worker_threads';
import { createSHA512 } from 'hash-wasm';

type Request = { type: 'update'; data: Uint8Array } | { type: 'save'; offset: number } | { type: 'digest' };

const hasher = await createSHA512();
hasher.init();
const initial = (workerData as { state?: Uint8Array } | undefined)?.state;
if (initial) hasher.load(initial);
parentPort!.on('message', (request: Request) => {
  if (request.type === 'update') hasher.update(request.data);
  else if (request.type === 'save')
    parentPort!.postMessage({ type: 'saved', offset: request.offset, state: hasher.save() });
  else parentPort!.postMessage({ type: 'digest', hex: hasher.digest('hex') });
});
parentPort!.postMessage({ type: 'ready' });
