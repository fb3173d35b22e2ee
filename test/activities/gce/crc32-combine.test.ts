import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { crc32 } from 'node:zlib';
import { crc32Combine, crc32OfZeros } from '../../../activities/gce/crc32-combine.js';

describe('crc32 combine (gzip CRC of pieces hashed apart)', () => {
  it('equals zlib.crc32 of the concatenation for any split, empty pieces included', () => {
    for (const [a, b] of [
      [0, 0],
      [0, 17],
      [1, 0],
      [5, 1],
      [1000, 4096],
      [65537, 300000],
    ] as const) {
      const x = randomBytes(a);
      const y = randomBytes(b);
      assert.equal(crc32Combine(crc32(x), crc32(y), b), crc32(Buffer.concat([x, y])), `split ${a}+${b}`);
    }
  });

  it('folds many blocks in order as the writer does', () => {
    const blocks = Array.from({ length: 20 }, (_, i) => randomBytes(1 + i * 997));
    let crc = 0;
    for (const block of blocks) crc = crc32Combine(crc, crc32(block), block.length);
    assert.equal(crc, crc32(Buffer.concat(blocks)));
  });

  it('knows the crc of zero runs without making them', () => {
    for (const n of [0, 1, 512, 1024 * 1024 + 3]) assert.equal(crc32OfZeros(n), crc32(Buffer.alloc(n)), `${n} zeros`);
    const head = randomBytes(100);
    const gib = 1024 ** 3;
    // 1 GiB + 100 of zeros: checked by streaming zlib.crc32 over a reused zero buffer.
    const zeros = Buffer.alloc(64 * 1024 * 1024);
    let expected = crc32(head);
    for (let done = 0; done < gib; done += zeros.length) expected = crc32(zeros, expected);
    assert.equal(crc32Combine(crc32(head), crc32OfZeros(gib), gib), expected);
  });
});
