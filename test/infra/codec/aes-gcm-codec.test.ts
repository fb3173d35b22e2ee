import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { defaultPayloadConverter, type Payload } from '@temporalio/common';
import {
  AesGcmPayloadCodec,
  PayloadDecryptionError,
  UnknownPayloadKeyError,
} from '../../../infra/codec/aes-gcm-codec.js';
import {
  generatePayloadKey,
  payloadKeysFromJson,
  type PayloadKeys,
} from '../../../infra/codec/payload-keys.js';

const utf8 = (bytes: Uint8Array | null | undefined) => Buffer.from(bytes ?? []).toString('utf8');

function keyring(current: string, keys: Record<string, string>): PayloadKeys {
  return payloadKeysFromJson({ current, keys });
}

const k1 = generatePayloadKey();
const k2 = generatePayloadKey();
const secret = { account: 'suse-prod-eu', imageName: 'sles-15-sp6-v20250101', regions: ['eu-central-1'] };
const plainPayloads = (): Payload[] => [
  defaultPayloadConverter.toPayload(secret),
  defaultPayloadConverter.toPayload('a plain string argument'),
  defaultPayloadConverter.toPayload(null),
  defaultPayloadConverter.toPayload(new Uint8Array([1, 2, 3])),
];

describe('AES-GCM payload codec', () => {
  it('round-trips several payloads of different encodings', async () => {
    const codec = new AesGcmPayloadCodec(keyring('k1', { k1 }));
    const original = plainPayloads();
    const decoded = await codec.decode(await codec.encode(original));
    assert.equal(decoded.length, original.length);
    decoded.forEach((payload, i) => {
      assert.deepEqual(
        defaultPayloadConverter.fromPayload(payload),
        defaultPayloadConverter.fromPayload(original[i]!),
      );
      assert.equal(utf8(payload.metadata?.encoding), utf8(original[i]!.metadata?.encoding));
    });
  });

  it('hides the data and its encoding, and names the key it used', async () => {
    const codec = new AesGcmPayloadCodec(keyring('k1', { k1 }));
    const [encrypted] = await codec.encode([defaultPayloadConverter.toPayload(secret)]);
    assert.ok(encrypted);
    assert.deepEqual(Object.keys(encrypted.metadata ?? {}).sort(), ['encoding', 'encryption-key-id']);
    assert.equal(utf8(encrypted.metadata?.encoding), 'binary/encrypted');
    assert.equal(utf8(encrypted.metadata?.['encryption-key-id']), 'k1');
    const bytes = Buffer.from(encrypted.data ?? []);
    for (const clear of ['suse-prod-eu', 'sles-15', 'json/plain'])
      assert.equal(bytes.indexOf(clear), -1, clear);
  });

  it('uses a fresh IV for every payload, so equal inputs never give equal ciphertexts', async () => {
    const codec = new AesGcmPayloadCodec(keyring('k1', { k1 }));
    const same = defaultPayloadConverter.toPayload(secret);
    const encoded = [...(await codec.encode([same, same])), ...(await codec.encode([same]))];
    const ivs = new Set(encoded.map((p) => Buffer.from(p.data!.subarray(0, 12)).toString('hex')));
    const bodies = new Set(encoded.map((p) => Buffer.from(p.data!).toString('hex')));
    assert.equal(ivs.size, 3);
    assert.equal(bodies.size, 3);
  });

  it('leaves payloads that are not encrypted as they are', async () => {
    const codec = new AesGcmPayloadCodec(keyring('k1', { k1 }));
    const plain = plainPayloads();
    assert.deepEqual(await codec.decode(plain), plain);
  });

  it('after a rotation, encrypts with the new key and still decrypts what the old one wrote', async () => {
    const before = new AesGcmPayloadCodec(keyring('k1', { k1 }));
    const written = await before.encode([defaultPayloadConverter.toPayload(secret)]);
    const after = new AesGcmPayloadCodec(keyring('k2', { k1, k2 }));
    const [rewritten] = await after.encode([defaultPayloadConverter.toPayload(secret)]);
    assert.equal(utf8(rewritten?.metadata?.['encryption-key-id']), 'k2');
    const [decoded] = await after.decode(written);
    assert.deepEqual(defaultPayloadConverter.fromPayload(decoded!), secret);
  });

  it('names the key id it does not have', async () => {
    const written = await new AesGcmPayloadCodec(keyring('retired-2024', { 'retired-2024': k1 })).encode([
      defaultPayloadConverter.toPayload(secret),
    ]);
    const codec = new AesGcmPayloadCodec(keyring('k2', { k2 }));
    await assert.rejects(codec.decode(written), (error: Error) => {
      assert.ok(error instanceof UnknownPayloadKeyError);
      assert.match(error.message, /"retired-2024"/);
      return true;
    });
  });

  it('refuses altered, truncated or wrongly-keyed ciphertext', async () => {
    const codec = new AesGcmPayloadCodec(keyring('k1', { k1 }));
    const [encrypted] = await codec.encode([defaultPayloadConverter.toPayload(secret)]);
    const data = Buffer.from(encrypted!.data!);
    const flipped = Buffer.from(data);
    flipped[20]! ^= 0x01;
    const variants: Payload[] = [
      { ...encrypted, data: flipped },
      { ...encrypted, data: data.subarray(0, data.length - 1) },
      { ...encrypted, data: data.subarray(0, 10) },
    ];
    for (const variant of variants) {
      await assert.rejects(codec.decode([variant]), PayloadDecryptionError);
    }
    // Same id, different key: what a mixed-up keys file would do.
    const impostor = new AesGcmPayloadCodec(keyring('k1', { k1: k2 }));
    await assert.rejects(impostor.decode([encrypted!]), (error: Error) => {
      assert.ok(error instanceof PayloadDecryptionError);
      assert.ok(!error.message.includes(k1) && !error.message.includes(k2));
      return true;
    });
  });
});
