import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { keyIdOf, keyRingFromEnv, keyRingFromJson, singleKeyRing } from '../../secrets/key-ring.js';
import { keyRingMasterKeys, openSecret, rewrapSecret, sealSecret } from '../../secrets/envelope.js';

const b64 = () => randomBytes(32).toString('base64');

describe('envelope encryption', () => {
  it('seals a secret under its own data key and opens it only in the same context', async () => {
    const master = keyRingMasterKeys(singleKeyRing(b64(), 'IMAGECAST_MASTER_KEY'));
    const secret = Buffer.from('wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY');
    const sealed = await sealSecret(master, secret, 'account:ec2/a');
    assert.ok(!sealed.ciphertext.includes(secret), 'ciphertext does not hold the secret');
    assert.deepEqual(await openSecret(master, sealed, 'account:ec2/a'), secret);
    // Copied onto another account's row, it does not open.
    await assert.rejects(openSecret(master, sealed, 'account:ec2/b'), /does not open/);
    // Two seals of one secret differ (fresh data key and IV).
    const again = await sealSecret(master, secret, 'account:ec2/a');
    assert.notDeepEqual(again.ciphertext, sealed.ciphertext);
  });

  it('re-wraps the data key under the new current key; the old key is then not needed', async () => {
    const [k1, k2] = [b64(), b64()];
    const before = keyRingMasterKeys(keyRingFromJson({ current: 'k1', keys: { k1 } }, 'keys.json'));
    const sealed = await sealSecret(before, Buffer.from('s3cret'), 'ctx');
    const during = keyRingMasterKeys(keyRingFromJson({ current: 'k2', keys: { k1, k2 } }, 'keys.json'));
    const rewrapped = await rewrapSecret(during, sealed, 'ctx');
    assert.equal(rewrapped.keyId, 'k2');
    assert.deepEqual(rewrapped.ciphertext, sealed.ciphertext, 'the secret itself is untouched');
    const after = keyRingMasterKeys(keyRingFromJson({ current: 'k2', keys: { k2 } }, 'keys.json'));
    assert.equal((await openSecret(after, rewrapped, 'ctx')).toString(), 's3cret');
    await assert.rejects(openSecret(after, sealed, 'ctx'), /master key "k1" is not in keys.json \(it has: k2\)/);
  });

  it('opens data sealed under a single key from a keys file that names that key otherwise', async () => {
    const [old, next] = [b64(), b64()];
    const single = keyRingMasterKeys(singleKeyRing(old, 'IMAGECAST_MASTER_KEY'));
    const sealed = await sealSecret(single, Buffer.from('s3cret'), 'ctx');
    assert.equal(sealed.keyId, keyIdOf(Buffer.from(old, 'base64')));
    // docs/security.md's rotation: the old key under a name of the user's choosing.
    const file = keyRingMasterKeys(keyRingFromJson({ current: '2026-11', keys: { '2026-05': old, '2026-11': next } }, 'keys.json'));
    assert.equal((await openSecret(file, sealed, 'ctx')).toString(), 's3cret');
    const rewrapped = await rewrapSecret(file, sealed, 'ctx');
    assert.equal(rewrapped.keyId, '2026-11');
  });

  it('names the field of a bad key and never prints key material', () => {
    const short = randomBytes(7).toString('base64');
    assert.throws(() => singleKeyRing(short, 'IMAGECAST_MASTER_KEY'), (e: Error) => {
      assert.equal(e.message, 'IMAGECAST_MASTER_KEY: must be 32 bytes of base64, got 7');
      return true;
    });
    const good = b64();
    assert.throws(() => keyRingFromJson({ current: 'k1', keys: { k1: good, k2: short } }, 'keys.json'), (e: Error) => {
      assert.match(e.message, /keys.json: keys.k2: must be 32 bytes of base64, got 7/);
      assert.ok(!e.message.includes(good) && !e.message.includes(short));
      return true;
    });
    assert.throws(() => keyRingFromJson({ current: 'k9', keys: { k1: good } }, 'keys.json'), /keys.json: current: names no entry of "keys"/);
    assert.throws(() => keyRingFromEnv({ IMAGECAST_MASTER_KEY: good, IMAGECAST_MASTER_KEYS_FILE: 'k.json' }, 'IMAGECAST_MASTER'), /set one of IMAGECAST_MASTER_KEY and IMAGECAST_MASTER_KEYS_FILE, not both/);
    assert.match(keyIdOf(Buffer.from(good, 'base64')), /^k-[0-9a-f]{8}$/);
  });
});
