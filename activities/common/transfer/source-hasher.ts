import { createHash } from 'node:crypto';
import { createSHA256, createSHA512 } from 'hash-wasm';
import type { ResolvedImageSource } from '../../provider.js';

type Algorithm = ResolvedImageSource['checksum']['algorithm'];

/** Hashes the source bytes as they stream past. */
export interface SourceHasher {
  update(data: Uint8Array): void;
  /** The state after everything hashed so far; only a resumable hasher has one. */
  save?(): Uint8Array;
  hex(): string;
}

/**
 * A hasher whose state can be saved and loaded (hash-wasm), so a retried upload of a raw
 * image continues mid-file instead of reading gigabytes again. node:crypto cannot export
 * its state. The price: hash-wasm is several times slower than node:crypto on CPUs with
 * SHA extensions (still faster than most downloads), so it is used only where a state is
 * worth saving. Throws when `state` is not a saved state of this algorithm.
 */
export async function resumableHasher(algorithm: Algorithm, state?: Uint8Array): Promise<SourceHasher> {
  const hasher = await (algorithm === 'sha256' ? createSHA256() : createSHA512());
  hasher.init();
  if (state) hasher.load(state);
  return {
    update: (data) => void hasher.update(data),
    save: () => hasher.save(),
    hex: () => hasher.digest('hex'),
  };
}

/** node:crypto (hardware SHA where the CPU has it), for sources whose retries start over anyway. */
export function fastHasher(algorithm: Algorithm): SourceHasher {
  const hash = createHash(algorithm);
  return {
    update: (data) => void hash.update(data),
    hex: () => hash.digest('hex'),
  };
}
