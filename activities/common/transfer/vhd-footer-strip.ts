import { Transform } from 'node:stream';
import { nonRetryable } from '../errors.js';
import { parseVhdFooter, VHD_FOOTER_SIZE, VhdFooterInvalid } from './vhd-footer.js';

/**
 * A fixed VHD (kiwi's `.vhdfixed.xz`) is the disk followed by a 512-byte footer: this stage
 * passes the disk on and keeps the last 512 bytes back, and at the end checks them as the
 * footer Azure would (cookie, checksum, fixed type, a current size equal to the disk's).
 * Every writer then gets a plain disk; Azure's writes a footer of its own.
 */
export function vhdFooterStripper(fileName: string): Transform {
  let tail = Buffer.alloc(0);
  let diskBytes = 0;
  return new Transform({
    transform(chunk: Buffer, _encoding, done) {
      if (chunk.length >= VHD_FOOTER_SIZE) {
        const disk = chunk.subarray(0, chunk.length - VHD_FOOTER_SIZE);
        if (tail.length > 0) this.push(tail);
        if (disk.length > 0) this.push(disk);
        diskBytes += tail.length + disk.length;
        // A copy: the chunk's memory is the decompressor's to reuse.
        tail = Buffer.from(chunk.subarray(chunk.length - VHD_FOOTER_SIZE));
      } else {
        const joined = Buffer.concat([tail, chunk]);
        const passed = Math.max(0, joined.length - VHD_FOOTER_SIZE);
        if (passed > 0) this.push(joined.subarray(0, passed));
        diskBytes += passed;
        tail = Buffer.from(joined.subarray(passed));
      }
      done();
    },
    flush(done) {
      try {
        parseVhdFooter(tail, diskBytes);
        done();
      } catch (error) {
        if (!(error instanceof VhdFooterInvalid)) return done(error as Error);
        done(nonRetryable('InvalidImage', `${fileName} is no fixed VHD: ${error.message}`, { fileName, field: error.field }));
      }
    },
  });
}
