import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  generatePayloadKey,
  payloadKeyId,
  payloadKeysFromEnv,
  payloadKeysFromJson,
} from '../../../infra/codec/payload-keys.js';
import { tempDir } from '../../support/stack.js';

const dir = tempDir('payload-keys');

function keysFile(name: string, content: string): string {
  const path = join(dir, name);
  writeFileSync(path, content);
  return path;
}

/** Runs `load`, expects it to throw, and returns the message. */
function failure(load: () => unknown): string {
  try {
    load();
  } catch (error) {
    return (error as Error).message;
  }
  assert.fail('expected an error');
}

describe('payload keys', () => {
  it('reads one key from IMAGECAST_PAYLOAD_KEY under the id k-<sha256 prefix>', () => {
    const key = generatePayloadKey();
    const keys = payloadKeysFromEnv({ IMAGECAST_PAYLOAD_KEY: key });
    assert.ok(keys);
    assert.match(keys.currentId, /^k-[0-9a-f]{8}$/);
    assert.equal(keys.currentId, payloadKeyId(Buffer.from(key, 'base64')));
    assert.deepEqual(keys.key(keys.currentId), Buffer.from(key, 'base64'));
    assert.deepEqual(keys.ids(), [keys.currentId]);
  });

  it('is undefined when neither variable is set, and refuses both at once', () => {
    assert.equal(payloadKeysFromEnv({}), undefined);
    assert.match(
      failure(() =>
        payloadKeysFromEnv({ IMAGECAST_PAYLOAD_KEY: generatePayloadKey(), IMAGECAST_PAYLOAD_KEYS_FILE: 'x' }),
      ),
      /not both/,
    );
  });

  it('reads a keys file with several keys, the current one named', () => {
    const [old, current] = [generatePayloadKey(), generatePayloadKey()];
    const path = keysFile(
      'two.json',
      JSON.stringify({ current: '2025-02', keys: { '2025-01': old, '2025-02': current } }),
    );
    const keys = payloadKeysFromEnv({ IMAGECAST_PAYLOAD_KEYS_FILE: path });
    assert.ok(keys);
    assert.equal(keys.currentId, '2025-02');
    assert.deepEqual(keys.ids().sort(), ['2025-01', '2025-02']);
    assert.deepEqual(keys.key('2025-01'), Buffer.from(old, 'base64'));
    assert.equal(keys.key('2024-12'), undefined);
  });

  it('names the variable and the length of a short key, never the key', () => {
    const short = randomBytes(7).toString('base64');
    const message = failure(() => payloadKeysFromEnv({ IMAGECAST_PAYLOAD_KEY: short }));
    assert.equal(message, 'IMAGECAST_PAYLOAD_KEY: must be 32 bytes of base64, got 7');
    assert.ok(!message.includes(short));
  });

  it('refuses text that is not base64 without echoing it', () => {
    const notBase64 = 'this is my secret key, not base64!!!!!!!!!!!';
    const message = failure(() => payloadKeysFromEnv({ IMAGECAST_PAYLOAD_KEY: notBase64 }));
    assert.match(message, /^IMAGECAST_PAYLOAD_KEY: must be 32 bytes of base64, got text that is not base64$/);
    assert.ok(!message.includes('secret'));
  });

  it('names the keys file field at fault: a bad key, a missing current id', () => {
    const good = generatePayloadKey();
    const bad = randomBytes(16).toString('base64');
    const badKey = failure(() =>
      payloadKeysFromJson({ current: 'a', keys: { a: good, b: bad } }, 'keys.json'),
    );
    assert.equal(badKey, 'keys.json: keys.b: must be 32 bytes of base64, got 16');
    const noCurrent = failure(() => payloadKeysFromJson({ current: 'c', keys: { a: good } }, 'keys.json'));
    assert.equal(noCurrent, 'keys.json: current: names no entry of "keys"');
    for (const message of [badKey, noCurrent]) {
      assert.ok(!message.includes(good) && !message.includes(bad));
    }
  });

  it('never prints a key pasted where an id belongs', () => {
    const key = generatePayloadKey();
    const message = failure(() => payloadKeysFromJson({ current: 'a', keys: { [key]: 'a' } }));
    assert.ok(!message.includes(key), message);
    assert.match(message, /<invalid key id>/);
  });

  it('says a keys file is not JSON without quoting it, and names a file it cannot read', () => {
    const key = generatePayloadKey();
    const path = keysFile('broken.json', `{"current": "a", "keys": {"a": "${key}",}}`);
    const message = failure(() => payloadKeysFromEnv({ IMAGECAST_PAYLOAD_KEYS_FILE: path }));
    assert.equal(message, `IMAGECAST_PAYLOAD_KEYS_FILE (${path}): not valid JSON`);
    const missing = join(dir, 'missing.json');
    assert.equal(
      failure(() => payloadKeysFromEnv({ IMAGECAST_PAYLOAD_KEYS_FILE: missing })),
      `IMAGECAST_PAYLOAD_KEYS_FILE (${missing}): cannot read: ENOENT`,
    );
  });

  it('generates distinct 32-byte keys', () => {
    const [a, b] = [generatePayloadKey(), generatePayloadKey()];
    assert.notEqual(a, b);
    assert.equal(Buffer.from(a, 'base64').length, 32);
  });
});
