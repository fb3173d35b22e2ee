/**
 * AES-256-GCM payload encryption, so workflow inputs, results and heartbeats (account names,
 * image metadata) are stored in Temporal as ciphertext. This is Temporal's documented
 * encryption-codec pattern: the whole original payload (metadata and data) is serialized and
 * encrypted, so not even its encoding is visible to the server.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import type { Payload, PayloadCodec } from '@temporalio/common';
import proto from '@temporalio/proto';
import type { PayloadKeys } from './payload-keys.js';

const { temporal } = proto;

export const ENCODING_ENCRYPTED = 'binary/encrypted';
export const METADATA_ENCODING = 'encoding';
export const METADATA_KEY_ID = 'encryption-key-id';

const CIPHER = 'aes-256-gcm';
const IV_BYTES = 12;
const TAG_BYTES = 16;

/** An encrypted payload names a key this codec was not given (e.g. dropped too early after a rotation). */
export class UnknownPayloadKeyError extends Error {
  override readonly name = 'UnknownPayloadKeyError';
  constructor(readonly keyId: string) {
    super(`payload is encrypted under key "${keyId}", which is not among the configured payload keys`);
  }
}

/** An encrypted payload is truncated, was altered, or its key id names a different key. */
export class PayloadDecryptionError extends Error {
  override readonly name = 'PayloadDecryptionError';
  constructor(
    readonly keyId: string,
    reason: string,
  ) {
    super(`payload encrypted under key "${keyId}" cannot be decrypted: ${reason}`);
  }
}

const utf8 = (text: string): Uint8Array => new TextEncoder().encode(text);
const text = (bytes: Uint8Array | null | undefined): string | undefined =>
  bytes ? new TextDecoder().decode(bytes) : undefined;

/** Encrypts with the current key; decrypts with whichever key a payload names. */
export class AesGcmPayloadCodec implements PayloadCodec {
  constructor(private readonly keys: PayloadKeys) {
    if (!keys.key(keys.currentId)) throw new UnknownPayloadKeyError(keys.currentId);
  }

  async encode(payloads: Payload[]): Promise<Payload[]> {
    return payloads.map((payload) => this.encrypt(payload));
  }

  async decode(payloads: Payload[]): Promise<Payload[]> {
    return payloads.map((payload) =>
      text(payload.metadata?.[METADATA_ENCODING]) === ENCODING_ENCRYPTED ? this.decrypt(payload) : payload,
    );
  }

  private encrypt(payload: Payload): Payload {
    const keyId = this.keys.currentId;
    const key = this.keys.key(keyId);
    if (!key) throw new UnknownPayloadKeyError(keyId);
    const plain = temporal.api.common.v1.Payload.encode(payload).finish();
    // A fresh random IV per payload: GCM loses all its guarantees if an IV repeats under one key.
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv(CIPHER, key, iv, { authTagLength: TAG_BYTES });
    const sealed = Buffer.concat([iv, cipher.update(plain), cipher.final(), cipher.getAuthTag()]);
    return {
      metadata: { [METADATA_ENCODING]: utf8(ENCODING_ENCRYPTED), [METADATA_KEY_ID]: utf8(keyId) },
      data: sealed,
    };
  }

  private decrypt(payload: Payload): Payload {
    const keyId = text(payload.metadata?.[METADATA_KEY_ID]);
    if (!keyId) throw new PayloadDecryptionError('(none)', `metadata "${METADATA_KEY_ID}" is missing`);
    const key = this.keys.key(keyId);
    if (!key) throw new UnknownPayloadKeyError(keyId);
    const sealed = payload.data ?? new Uint8Array();
    if (sealed.length < IV_BYTES + TAG_BYTES) {
      throw new PayloadDecryptionError(keyId, `${sealed.length} bytes is shorter than IV and tag`);
    }
    const iv = sealed.subarray(0, IV_BYTES);
    const tag = sealed.subarray(sealed.length - TAG_BYTES);
    const decipher = createDecipheriv(CIPHER, key, iv, { authTagLength: TAG_BYTES });
    decipher.setAuthTag(tag);
    let plain: Buffer;
    try {
      plain = Buffer.concat([
        decipher.update(sealed.subarray(IV_BYTES, sealed.length - TAG_BYTES)),
        decipher.final(),
      ]);
    } catch {
      throw new PayloadDecryptionError(keyId, 'authentication failed (altered, truncated or wrong key)');
    }
    return temporal.api.common.v1.Payload.decode(plain);
  }
}
