import { randomBytes } from 'node:crypto';
import { open, seal } from './aes-gcm.js';
import type { KeyRing } from './key-ring.js';

/**
 * Where data keys are wrapped: a key ring in this process today; a KMS (AWS KMS Encrypt/
 * Decrypt, Vault transit) fits the same shape, so the master key need never be in our memory.
 */
export interface MasterKeyProvider {
  readonly currentKeyId: string;
  wrap(dataKey: Buffer, context: string): Promise<{ keyId: string; wrapped: Buffer }>;
  unwrap(keyId: string, wrapped: Buffer, context: string): Promise<Buffer>;
}

export function keyRingMasterKeys(ring: KeyRing): MasterKeyProvider {
  const keyOf = (id: string) => {
    const key = ring.key(id);
    if (!key) throw new Error(`master key "${id}" is not in ${ring.origin} (it has: ${ring.ids().join(', ')})`);
    return key;
  };
  return {
    currentKeyId: ring.currentId,
    async wrap(dataKey, context) {
      return { keyId: ring.currentId, wrapped: seal(keyOf(ring.currentId), dataKey, `data-key:${context}`) };
    },
    async unwrap(keyId, wrapped, context) {
      try {
        return open(keyOf(keyId), wrapped, `data-key:${context}`);
      } catch (error) {
        if ((error as Error).message.startsWith('master key')) throw error;
        throw new Error(`the data key of ${context} does not open with master key "${keyId}" (wrong key or damaged row)`);
      }
    },
  };
}

/** A secret sealed under its own data key, the data key wrapped by a master key. */
export interface SealedSecret {
  ciphertext: Buffer;
  wrappedDataKey: Buffer;
  keyId: string;
}

export async function sealSecret(master: MasterKeyProvider, plaintext: Buffer, context: string): Promise<SealedSecret> {
  const dataKey = randomBytes(32);
  try {
    const { keyId, wrapped } = await master.wrap(dataKey, context);
    return { ciphertext: seal(dataKey, plaintext, context), wrappedDataKey: wrapped, keyId };
  } finally {
    dataKey.fill(0);
  }
}

export async function openSecret(master: MasterKeyProvider, sealed: SealedSecret, context: string): Promise<Buffer> {
  const dataKey = await master.unwrap(sealed.keyId, sealed.wrappedDataKey, context);
  try {
    return open(dataKey, sealed.ciphertext, context);
  } catch {
    throw new Error(`the secret of ${context} does not open (damaged row or moved from another account)`);
  } finally {
    dataKey.fill(0);
  }
}

/** The same data key wrapped by the current master key: rotation without touching the secret. */
export async function rewrapSecret(master: MasterKeyProvider, sealed: SealedSecret, context: string): Promise<SealedSecret> {
  const dataKey = await master.unwrap(sealed.keyId, sealed.wrappedDataKey, context);
  try {
    const { keyId, wrapped } = await master.wrap(dataKey, context);
    return { ciphertext: sealed.ciphertext, wrappedDataKey: wrapped, keyId };
  } finally {
    dataKey.fill(0);
  }
}
