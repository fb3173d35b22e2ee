import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parseChecksumFile } from '../../../../activities/common/download/checksum-file.js';

const SHA256 = 'ab'.repeat(32);
const SHA512 = 'cd'.repeat(64);
const FILE = 'img.x86_64-1.0-Build1.1.raw.xz';

describe('checksum files', () => {
  it('reads a plain sha256sum line', () => {
    assert.deepEqual(parseChecksumFile(`${SHA256}  ${FILE}\n`, FILE, 'sha256'), {
      algorithm: 'sha256',
      hex: SHA256,
    });
  });

  it('reads a PGP clear-signed checksum file as OBS publishes it, ignoring the signature block', () => {
    const signed = [
      '-----BEGIN PGP SIGNED MESSAGE-----',
      'Hash: SHA256',
      '',
      `${SHA256}  ${FILE}`,
      '-----BEGIN PGP SIGNATURE-----',
      '',
      // A base64 line that happens to look like a digest must not be taken for one.
      'f'.repeat(64),
      '=abcd',
      '-----END PGP SIGNATURE-----',
      '',
    ].join('\n');
    assert.deepEqual(parseChecksumFile(signed, FILE), { algorithm: 'sha256', hex: SHA256 });
  });

  it('knows sha512 by the digest length, in upper or lower case', () => {
    assert.deepEqual(parseChecksumFile(`${SHA512.toUpperCase()} *${FILE}\r\n`, FILE, 'sha512'), {
      algorithm: 'sha512',
      hex: SHA512,
    });
  });

  it('takes the line naming the file among several, and reads BSD-style lines', () => {
    const text = `${'0'.repeat(64)}  other.raw.xz\nSHA256 (${FILE}) = ${SHA256}\n`;
    assert.equal(parseChecksumFile(text, FILE).hex, SHA256);
  });

  it('takes a bare digest', () => {
    assert.equal(parseChecksumFile(`${SHA256}\n`, FILE).hex, SHA256);
  });

  it('says what is wrong when there is no usable digest', () => {
    assert.throws(() => parseChecksumFile('<html>oops</html>', FILE), /holds no sha256 or sha512 digest/);
    assert.throws(
      () => parseChecksumFile(`${SHA256}  a.raw\n${SHA256}  b.raw\n`, FILE),
      /no digest for it \(it names a\.raw, b\.raw\)/,
    );
    assert.throws(
      () => parseChecksumFile(`${SHA256}  ${FILE}\n`, FILE, 'sha512'),
      /sha512 checksum file .* holds a sha256 digest/,
    );
  });
});
