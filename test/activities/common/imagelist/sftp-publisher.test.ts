// Publishing image lists over SFTP to a real OpenSSH server (Debian openssh-server on a free
// loopback port, its in-process sftp subsystem; infra/devstack/sshd.ts). No fake SSH.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { startSshd, type Sshd } from '../../../../infra/devstack/sshd.js';
import { ephemeralKeyPair } from '../../../../activities/common/image-tests/ssh-keys.js';
import { parseSftpUri, sftpPut } from '../../../../activities/common/imagelist/publishers/sftp.js';
import { publisherFor, uploadTarget } from '../../../../activities/common/imagelist/publish-target.js';
import { imageListPublishMappingSchema } from '../../../../schemas/imagelist-publish.js';
import { tempDir } from '../../../support/stack.js';

describe('image list publishing over SFTP (real sshd)', () => {
  const keys = ephemeralKeyPair();
  const root = tempDir('sftp-www');
  let sshd: Sshd;
  const uri = (path: string) => `sftp://${sshd.user}@${sshd.host}:${sshd.port}${join(root, path)}`;
  const credentials = () => ({ privateKey: keys.privateKey, hostKeyFingerprint: sshd.hostKeyFingerprint });

  before(async () => {
    sshd = await startSshd(tempDir('sftp-sshd'), keys.publicKey);
  });
  after(async () => sshd?.stop());

  it('writes a list into directories it makes, and replaces it on the next publish without leaving temporaries', async () => {
    await sftpPut(uri('lists/egi/image.list'), Buffer.from('version 1\n'), credentials());
    assert.equal(readFileSync(join(root, 'lists/egi/image.list'), 'utf8'), 'version 1\n');
    await sftpPut(uri('lists/egi/image.list'), Buffer.from('version 2\n'), credentials());
    assert.equal(readFileSync(join(root, 'lists/egi/image.list'), 'utf8'), 'version 2\n');
    assert.deepEqual(readdirSync(join(root, 'lists/egi')), ['image.list'], 'no temporary file left');
  });

  it('streams an image file (several MiB) byte for byte', async () => {
    const bytes = Buffer.alloc(6 * 1024 * 1024 + 123);
    for (let i = 0; i < bytes.length; i += 4096) bytes[i] = i % 251;
    const chunks = function* () {
      for (let i = 0; i < bytes.length; i += 1024 * 1024) yield bytes.subarray(i, i + 1024 * 1024);
    };
    await sftpPut(uri('images/disk.raw'), Readable.from(chunks()), credentials());
    assert.ok(readFileSync(join(root, 'images/disk.raw')).equals(bytes));
  });

  it('is what publish uses for an sftp:// mapping, with the key file and host key it names', async () => {
    const keyFile = join(tempDir('sftp-key'), 'id_ed25519');
    writeFileSync(keyFile, keys.privateKey, { mode: 0o600 });
    const mapping = imageListPublishMappingSchema.parse({
      uri_match: 'https://lists.example.org/',
      uri_replace: `sftp://${sshd.user}@${sshd.host}:${sshd.port}${root}/www/`,
      ssh_private_key_file: keyFile,
      ssh_host_key_fingerprint: sshd.hostKeyFingerprint,
    });
    const target = uploadTarget('https://lists.example.org/egi/image.list', [mapping], 'config.json');
    await publisherFor(target, mapping).put(target, Buffer.from('{"hv:imagelist":{}}'), 'application/pkcs7-mime');
    assert.equal(readFileSync(join(root, 'www/egi/image.list'), 'utf8'), '{"hv:imagelist":{}}');
    const missing = imageListPublishMappingSchema.safeParse({ uri_match: 'https://x/', uri_replace: 'sftp://u@h/x/' });
    assert.deepEqual(
      missing.error?.issues.map((i) => i.path.join('.')),
      ['ssh_private_key_file', 'ssh_host_key_fingerprint'],
    );
  });

  it('refuses a server whose host key is not the configured one, writing nothing', async () => {
    const other = 'SHA256:' + 'A'.repeat(43);
    await assert.rejects(
      sftpPut(uri('lists/impostor.list'), Buffer.from('x'), {
        privateKey: keys.privateKey,
        hostKeyFingerprint: other,
      }),
      new RegExp(
        `showed host key ${sshd.hostKeyFingerprint.replace(/[+/]/g, '\\$&')}, not the configured ${other}: refusing to publish there`,
      ),
    );
    assert.equal(existsSync(join(root, 'lists/impostor.list')), false);
  });

  it('names the problem in a bad target or fingerprint', async () => {
    assert.throws(() => parseSftpUri('https://example.org/x'), /expected the sftp:\/\/ scheme, got https:/);
    assert.throws(() => parseSftpUri('sftp://example.org/x'), /names no user/);
    assert.throws(() => parseSftpUri('sftp://u@example.org/lists/'), /names a directory, not a file/);
    await assert.rejects(
      sftpPut(uri('x.list'), Buffer.from('x'), { privateKey: keys.privateKey, hostKeyFingerprint: 'md5:aa' }),
      /host_key_fingerprint must be "SHA256:"/,
    );
  });

  it('says which server refused the login', async () => {
    const stranger = ephemeralKeyPair();
    await assert.rejects(
      sftpPut(uri('lists/denied.list'), Buffer.from('x'), {
        privateKey: stranger.privateKey,
        hostKeyFingerprint: sshd.hostKeyFingerprint,
      }),
      new RegExp(
        `^Error: sftp ${sshd.user}@127\\.0\\.0\\.1:${sshd.port}: All configured authentication methods failed`,
      ),
    );
  });
});
