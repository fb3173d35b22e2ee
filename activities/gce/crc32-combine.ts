/**
 * CRC-32 (the gzip polynomial) of concatenations whose parts were hashed apart: a gzip member
 * built from separately made pieces (tar header, the disk's blocks, the padding) needs the CRC
 * of the whole without hashing it again. This is zlib's crc32_combine, in GF(2): appending
 * n zero bytes to a message is a linear map of its CRC register, and x^(8n) is found by
 * squaring the one-bit shift matrix log2(n) times.
 */

/** The reflected gzip polynomial (x^32 + x^26 + … + 1). */
const POLY = 0xedb88320;

type Matrix = Uint32Array; // 32 columns, column i is the image of bit i

function times(matrix: Matrix, vector: number): number {
  let sum = 0;
  for (let i = 0; vector !== 0; i++, vector >>>= 1) if (vector & 1) sum ^= matrix[i]!;
  return sum >>> 0;
}

function square(matrix: Matrix): Matrix {
  const out = new Uint32Array(32);
  for (let i = 0; i < 32; i++) out[i] = times(matrix, matrix[i]!);
  return out;
}

/** Matrices for appending 2^k zero bytes, k = 0…63, made once (2 KiB each row of 32). */
const ZERO_BYTES_POW2: Matrix[] = (() => {
  // One zero bit: shift right, folding in the polynomial when bit 0 falls out.
  let bit: Matrix = new Uint32Array(32);
  bit[0] = POLY;
  for (let i = 1; i < 32; i++) bit[i] = (1 << (i - 1)) >>> 0;
  for (let k = 0; k < 3; k++) bit = square(bit); // 8 bits: one zero byte
  const out: Matrix[] = [bit];
  for (let k = 1; k < 64; k++) out.push(square(out[k - 1]!));
  return out;
})();

/** The CRC register after `length` more zero bytes (no pre/post conditioning). */
function shiftZeros(crc: number, length: number): number {
  let n = BigInt(length);
  for (let k = 0; n > 0n; k++, n >>= 1n) if (n & 1n) crc = times(ZERO_BYTES_POW2[k]!, crc);
  return crc >>> 0;
}

/** crc32(A ‖ B) from crc32(A), crc32(B) and B's length. */
export function crc32Combine(crcA: number, crcB: number, lengthB: number): number {
  if (lengthB <= 0) return crcA >>> 0;
  return (shiftZeros(crcA, lengthB) ^ crcB) >>> 0;
}

/** crc32 of `length` zero bytes, without making them (a disk's padding can be a GiB). */
export function crc32OfZeros(length: number): number {
  return ~shiftZeros(0xffffffff, length) >>> 0;
}
