// The fixed-VHD footer Azure needs after a page blob's disk: its bytes as the VHD
// specification lays them out, the spec's CHS geometry, the checksum, and what parsing refuses.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  paddedVhdDiskSize,
  parseVhdFooter,
  vhdFooter,
  vhdGeometry,
  VhdFooterInvalid,
} from '../../../activities/common/transfer/vhd-footer.js';

const MiB = 1024 ** 2;
const GiB = 1024 ** 3;
const ID = '0f8fad5b-d9cb-469f-a165-70867728950e';

describe('azure vhd footer', () => {
  it('lays out the fields where the specification puts them, big-endian', () => {
    // 100 s after the VHD epoch (2000-01-01 UTC).
    const footer = vhdFooter({ sizeBytes: GiB, uniqueId: ID, timestamp: new Date('2000-01-01T00:01:40Z') });
    assert.equal(footer.length, 512);
    const expected =
      '636f6e6563746978' + // cookie "conectix"
      '00000002' + // features: reserved bit
      '00010000' + // file format version 1.0
      'ffffffffffffffff' + // data offset: none (fixed disk)
      '00000064' + // timestamp: 100 s
      '696d6763' + // creator application "imgc"
      '00010000' + // creator version
      '5769326b' + // creator host OS "Wi2k"
      '0000000040000000' + // original size: 1 GiB
      '0000000040000000' + // current size
      '0820103f' + // geometry: 2080 cylinders, 16 heads, 63 sectors per track
      '00000002'; // disk type: fixed
    assert.equal(footer.subarray(0, 64).toString('hex'), expected);
    assert.equal(footer.subarray(68, 84).toString('hex'), ID.replace(/-/g, ''), 'unique id');
    assert.equal(footer[84], 0, 'saved state');
    assert.ok(
      footer.subarray(85).every((b) => b === 0),
      'reserved bytes are zero',
    );
    // One's complement of the sum of every other byte.
    const sum = [...footer].reduce((s, b, i) => (i >= 64 && i < 68 ? s : s + b), 0);
    assert.equal(footer.readUInt32BE(64), ~sum >>> 0);
  });

  it("computes CHS geometry by the spec's algorithm, capped at 65535×16×255", () => {
    assert.deepEqual(vhdGeometry(MiB), { cylinders: 30, heads: 4, sectorsPerTrack: 17 });
    assert.deepEqual(vhdGeometry(GiB), { cylinders: 2080, heads: 16, sectorsPerTrack: 63 });
    assert.deepEqual(vhdGeometry(30 * GiB), { cylinders: 62415, heads: 16, sectorsPerTrack: 63 });
    assert.deepEqual(vhdGeometry(64 * GiB), { cylinders: 32896, heads: 16, sectorsPerTrack: 255 });
    const cap = { cylinders: 65535, heads: 16, sectorsPerTrack: 255 };
    assert.deepEqual(vhdGeometry(65535 * 16 * 255 * 512), cap);
    assert.deepEqual(vhdGeometry(2 * 1024 * GiB), cap, 'larger disks report the cap');
  });

  it('pads the virtual size to the next whole MiB, as Azure requires', () => {
    assert.equal(paddedVhdDiskSize(1), MiB);
    assert.equal(paddedVhdDiskSize(MiB), MiB);
    assert.equal(paddedVhdDiskSize(MiB + 512), 2 * MiB);
    assert.equal(paddedVhdDiskSize(30 * GiB - 1), 30 * GiB);
    assert.throws(
      () => vhdFooter({ sizeBytes: MiB + 512, uniqueId: ID, timestamp: new Date() }),
      /whole number of MiB/,
    );
  });

  it('reads back what it wrote, checksum and all', () => {
    const timestamp = new Date('2026-12-04T12:00:00Z');
    const footer = parseVhdFooter(vhdFooter({ sizeBytes: 30 * GiB, uniqueId: ID, timestamp }), 30 * GiB);
    assert.deepEqual(footer, {
      sizeBytes: 30 * GiB,
      originalSizeBytes: 30 * GiB,
      geometry: { cylinders: 62415, heads: 16, sectorsPerTrack: 63 },
      diskType: 2,
      uniqueId: ID.replace(/-/g, ''),
      timestamp,
      creatorApp: 'imgc',
      creatorHostOs: 'Wi2k',
    });
  });

  it('refuses a tampered footer, naming the field that is wrong', () => {
    const good = vhdFooter({ sizeBytes: GiB, uniqueId: ID, timestamp: new Date() });
    /** Changes the footer, then fixes the checksum (unless told not to) so the change itself is judged. */
    const tampered = (change: (f: Buffer) => void, fixChecksum = true) => {
      const f = Buffer.from(good);
      change(f);
      if (fixChecksum) {
        f.writeUInt32BE(0, 64);
        const sum = [...f].reduce((s, b) => s + b, 0);
        f.writeUInt32BE(~sum >>> 0, 64);
      }
      return f;
    };
    const refusal = (buf: Buffer, expectedSize?: number) => {
      try {
        parseVhdFooter(buf, expectedSize);
      } catch (error) {
        assert.ok(error instanceof VhdFooterInvalid, String(error));
        return { field: error.field, message: error.message };
      }
      return assert.fail('accepted');
    };
    assert.equal(refusal(tampered((f) => f.write('conectiy', 0))).field, 'cookie');
    assert.equal(refusal(tampered((f) => f.writeUInt8(17, 57), false)).field, 'checksum');
    const dynamic = refusal(tampered((f) => f.writeUInt32BE(3, 60)));
    assert.deepEqual(dynamic.field, 'diskType');
    assert.match(dynamic.message, /disk type is 3/);
    assert.equal(refusal(tampered((f) => f.writeBigUInt64BE(BigInt(GiB + 512), 48))).field, 'currentSize');
    assert.match(
      refusal(good, 2 * GiB).message,
      /current size 1073741824, but the disk before the footer has 2147483648/,
    );
    assert.equal(refusal(good.subarray(0, 511)).field, 'length');
  });
});
