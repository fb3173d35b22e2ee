import { createHash, type Hash } from 'node:crypto';
import { createSHA256, createSHA512 } from 'hash-wasm';
import type { ResolvedImageSource } from '../../provider.js';

type Algorithm = ResolvedImageSource['checksum']['algorithm'];

/**
 * Hashes the source bytes as they stream past, with node:crypto (hardware SHA where the CPU
 * has it: on the bench machine sha256 costs 0.8 s of CPU per GiB, against hash-wasm's 5.3).
 * Its state cannot be saved, so a retried transfer reads the source again from the start
 * (uploading nothing twice) and proves with `digestSoFar` that the bytes it re-read are the
 * ones the earlier attempt uploaded.
 */
export interface SourceHasher {
  update(data: Uint8Array): void;
  /** The digest of everything hashed so far; hashing goes on (node:crypto's copy()). */
  digestSoFar(): string;
  hex(): string;
}

export function sourceHasher(algorithm: Algorithm): SourceHasher {
  const hash: Hash = createHash(algorithm);
  return {
    update: (data) => void hash.update(data),
    digestSoFar: () => hash.copy().digest('hex'),
    hex: () => hash.digest('hex'),
  };
}

/**
 * The digest of the bytes behind a hash state that an earlier version saved in its heartbeat
 * (hash-wasm's), so a retry after an upgrade can check the prefix it re-reads. Undefined when
 * `state` is not a saved state of this algorithm.
 */
export async function digestOfSavedState(
  algorithm: Algorithm,
  state: Uint8Array,
): Promise<string | undefined> {
  try {
    const hasher = await (algorithm === 'sha256' ? createSHA256() : createSHA512());
    hasher.init();
    hasher.load(state);
    return hasher.digest('hex');
  } catch {
    return undefined;
  }
}
