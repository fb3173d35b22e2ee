// The worker thread behind threadedHasher: one node:crypto hash, fed blocks in arrival
// order; each block is acknowledged with its size so the sender can bound what is queued.
import { createHash } from 'node:crypto';
import { parentPort, workerData } from 'node:worker_threads';

type Request = { type: 'update'; data: Uint8Array } | { type: 'digest' };

const hash = createHash((workerData as { algorithm: string }).algorithm);
parentPort!.on('message', (request: Request) => {
  if (request.type === 'update') {
    hash.update(request.data);
    parentPort!.postMessage({ type: 'hashed', bytes: request.data.byteLength });
  } else parentPort!.postMessage({ type: 'digest', hex: hash.digest('hex') });
});
