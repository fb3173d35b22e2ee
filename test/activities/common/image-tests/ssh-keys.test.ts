// The throw-away test key: every one must be a well-formed ed25519 key, or a test instance's
// launch fails at random (EC2 ImportKeyPair refuses it; so would sshd).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import ssh2 from 'ssh2';
import { ed25519KeyLength, ephemeralKeyPair } from '../../../../activities/common/image-tests/ssh-keys.js';

describe('ephemeral SSH key pairs', () => {
  it('are always 32-byte ed25519 keys whose private half matches the public line', () => {
    // ssh2 alone gets about 1 in 256 wrong; 3000 draws would meet one with odds 1 - 1e-5.
    for (let i = 0; i < 3000; i++) {
      const pair = ephemeralKeyPair();
      assert.equal(ed25519KeyLength(pair.publicKey), 32, pair.publicKey);
      const parsed = ssh2.utils.parseKey(pair.privateKey);
      assert.ok(!(parsed instanceof Error), String(parsed));
      const fromPrivate = (Array.isArray(parsed) ? parsed[0] : parsed)!.getPublicSSH().toString('base64');
      assert.equal(fromPrivate, pair.publicKey.split(' ')[1]);
    }
  });

  it('reads the key length of a line made by another tool', () => {
    const name = Buffer.from('ssh-ed25519');
    const blob = Buffer.concat([u32(name.length), name, u32(32), Buffer.alloc(32, 1)]);
    assert.equal(ed25519KeyLength(`ssh-ed25519 ${blob.toString('base64')} someone`), 32);
  });
});

function u32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n);
  return b;
}
