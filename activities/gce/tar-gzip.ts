import { promisify } from 'node:util';
import { constants, createDeflateRaw, crc32, deflateRaw, type ZlibOptions } from 'node:zlib';
import { crc32Combine, crc32OfZeros } from './crc32-combine.js';

/**
 * The pieces of one gzip member holding a tar of one file, `disk.raw`, made apart and joined
 * by GCS compose: HEAD (gzip header + the tar header), BODY (the disk's blocks) and TAIL
 * (zero padding to the GiB, the end-of-archive blocks, the final deflate block and the gzip
 * trailer). Every piece is raw deflate ending in a sync flush (byte-aligned, no final bit,
 * no reference into an earlier piece), so their concatenation is one valid deflate stream.
 */

const GiB = 1024 ** 3;
const TAR_BLOCK = 512;
/** GCE wants the tar's member named so, its size a whole number of GiB. */
export const DISK_MEMBER = 'disk.raw';

/** Level 1 as `gzip -1`; the rest pinned so a block always deflates to the same bytes. */
export const DEFLATE_OPTIONS: ZlibOptions = {
  level: 1,
  windowBits: 15,
  memLevel: 8,
  strategy: constants.Z_DEFAULT_STRATEGY,
  finishFlush: constants.Z_SYNC_FLUSH,
};

const deflateRawAsync = promisify(deflateRaw) as (data: Buffer, options: ZlibOptions) => Promise<Buffer>;

/** One block of the disk as a deflate segment (on the libuv threadpool: blocks deflate in parallel). */
export function deflateSegment(data: Buffer): Promise<Buffer> {
  return deflateRawAsync(data, DEFLATE_OPTIONS);
}

const zeroSegments = new Map<number, Promise<Buffer>>();

/**
 * An all-zero block of `length` bytes as a deflate segment, made once per length: most of a
 * cloud image is zeros, and deflating them again and again is most of the CPU. The bytes are
 * what deflateSegment makes of such a block (it made them), so a resumed stream is the same.
 */
export function zeroSegment(length: number): Promise<Buffer> {
  let made = zeroSegments.get(length);
  if (!made) {
    made = deflateSegment(Buffer.alloc(length));
    zeroSegments.set(length, made);
    made.catch(() => zeroSegments.delete(length));
  }
  return made;
}

/** The disk size GCE imports: the next whole GiB (a disk of 0 bytes still gets one). */
export function paddedDiskSize(diskBytes: number): number {
  return Math.max(1, Math.ceil(diskBytes / GiB)) * GiB;
}

/**
 * Bytes that decode to nothing and take exactly `length` bytes: groups of n empty
 * fixed-Huffman blocks (10 bits each) closed by an empty stored block (3 bits, pad to the
 * byte, LEN 0 / NLEN 0xffff). A group is ceil((10n+3)/8)+4 bytes: 5, 6, 7, 9, 10, 11, 12 for
 * n = 0…6, so every length but 1–4 and 8 can be made.
 */
export function emptyDeflateBlocks(length: number): Buffer {
  if (length === 0) return Buffer.alloc(0);
  if (length < 5 || length === 8) throw new RangeError(`no empty deflate blocks take ${length} bytes`);
  const groups: number[] = [];
  let left = length;
  for (; left >= 14; left -= 5) groups.push(0);
  if (left === 13) groups.push(1, 2);
  else groups.push({ 5: 0, 6: 1, 7: 2, 9: 3, 10: 4, 11: 5, 12: 6 }[left]!);
  const out: Buffer[] = [];
  for (const n of groups) {
    const bits = 10 * n + 3;
    const head = Buffer.alloc(Math.ceil(bits / 8));
    // Fixed block: BFINAL 0, BTYPE 01 (LSB first: a 1 then a 0), end-of-block code 0000000.
    for (let i = 0; i < n; i++) head[(10 * i + 1) >> 3]! |= 1 << ((10 * i + 1) & 7);
    out.push(head, Buffer.from([0x00, 0x00, 0xff, 0xff]));
  }
  return Buffer.concat(out);
}

/** Padding after `offset` so the stream reaches a multiple of `alignment` (which must exceed 8). */
export function alignmentPadding(offset: number, alignment: number): Buffer {
  let length = (alignment - (offset % alignment)) % alignment;
  if ((length > 0 && length < 5) || length === 8) length += alignment;
  return emptyDeflateBlocks(length);
}

/** The last deflate block (BFINAL 1, fixed Huffman, nothing in it), as `gzip` ends its stream. */
const FINAL_BLOCK = Buffer.from([0x03, 0x00]);

/** gzip header: deflate, no name, no mtime (the tar header has one), OS unix. */
const GZIP_HEADER = Buffer.from([0x1f, 0x8b, 0x08, 0x00, 0, 0, 0, 0, 0x00, 0x03]);

function octal(value: number, width: number): string {
  return value.toString(8).padStart(width - 1, '0') + '\0';
}

/**
 * The tar header of `disk.raw`, in the GNU "oldgnu" form Google's import docs make with
 * `tar --format=oldgnu -Sczf`; sizes from 8 GiB on use GNU's base-256 size field.
 */
export function tarHeader(sizeBytes: number, mtimeSeconds: number): Buffer {
  const h = Buffer.alloc(TAR_BLOCK);
  h.write(DISK_MEMBER, 0, 'ascii');
  h.write(octal(0o644, 8), 100, 'ascii');
  h.write(octal(0, 8), 108, 'ascii');
  h.write(octal(0, 8), 116, 'ascii');
  if (sizeBytes < 8 ** 11) h.write(octal(sizeBytes, 12), 124, 'ascii');
  else {
    h[124] = 0x80;
    h.writeBigUInt64BE(BigInt(sizeBytes), 124 + 4);
  }
  h.write(octal(mtimeSeconds, 12), 136, 'ascii');
  h.write('0', 156, 'ascii');
  h.write('ustar  \0', 257, 'ascii');
  h.write('root', 265, 'ascii');
  h.write('root', 297, 'ascii');
  h.fill(' ', 148, 156);
  let sum = 0;
  for (const byte of h) sum += byte;
  h.write(sum.toString(8).padStart(6, '0') + '\0 ', 148, 'ascii');
  return h;
}

export interface TarGzipHead {
  bytes: Buffer;
  /** crc32 of the uncompressed head (the tar header). */
  crc: number;
}

/** HEAD: the gzip header and the deflated tar header for a disk of `paddedSize` bytes. */
export async function tarGzipHead(paddedSize: number, mtimeSeconds: number): Promise<TarGzipHead> {
  const header = tarHeader(paddedSize, mtimeSeconds);
  return { bytes: Buffer.concat([GZIP_HEADER, await deflateSegment(header)]), crc: crc32(header) };
}

/**
 * TAIL: zeros from the disk's end to `paddedSize`, two zero tar blocks, the final deflate
 * block, then the gzip trailer for head + body + tail. The zeros are deflated as a stream
 * from one reused buffer: the padding may be most of a GiB.
 */
export async function tarGzipTail(input: {
  headCrc: number;
  diskBytes: number;
  diskCrc: number;
  paddedSize: number;
}): Promise<Buffer> {
  const zeros = input.paddedSize - input.diskBytes + 2 * TAR_BLOCK;
  const deflated = await deflateZeros(zeros);
  let crc = crc32Combine(input.headCrc, input.diskCrc, input.diskBytes);
  crc = crc32Combine(crc, crc32OfZeros(zeros), zeros);
  const trailer = Buffer.alloc(8);
  trailer.writeUInt32LE(crc, 0);
  // ISIZE: the uncompressed length modulo 2^32.
  trailer.writeUInt32LE(Number(BigInt(TAR_BLOCK + input.paddedSize + 2 * TAR_BLOCK) % 2n ** 32n), 4);
  return Buffer.concat([deflated, FINAL_BLOCK, trailer]);
}

async function deflateZeros(length: number): Promise<Buffer> {
  const zero = Buffer.alloc(Math.min(length, 4 * 1024 * 1024));
  const deflate = createDeflateRaw(DEFLATE_OPTIONS);
  const out: Buffer[] = [];
  deflate.on('data', (chunk: Buffer) => out.push(chunk));
  const ended = new Promise<void>((resolve, reject) => {
    deflate.once('end', resolve);
    deflate.once('error', reject);
  });
  for (let left = length; left > 0; left -= zero.length) {
    const piece = left >= zero.length ? zero : zero.subarray(0, left);
    if (!deflate.write(piece)) await new Promise((resolve) => deflate.once('drain', resolve));
  }
  deflate.end();
  await ended;
  return Buffer.concat(out);
}
