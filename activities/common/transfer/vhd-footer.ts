/**
 * The 512-byte footer that makes a raw disk a fixed VHD, per Microsoft's "Virtual Hard Disk
 * Image Format Specification" (v1.0, "Hard Disk Footer Format"). Azure takes a page blob as a
 * disk only when it ends in this footer and its virtual size is a whole MiB. All fields are
 * big-endian.
 */

export const VHD_FOOTER_SIZE = 512;
const MiB = 1024 ** 2;
const SECTOR = 512;

const COOKIE = 'conectix';
/** "Reserved" must always be set (the spec's only feature bit we use). */
const FEATURES = 0x00000002;
const FORMAT_VERSION = 0x00010000;
/** Fixed disks have no dynamic header: the offset is all ones. */
const DATA_OFFSET_NONE = 0xffffffffffffffffn;
const CREATOR_APP = 'imgc';
const CREATOR_VERSION = 0x00010000;
/** Azure's own tools write Windows ("Wi2k"); it accepts that, so we say the same. */
const CREATOR_HOST_OS = 'Wi2k';
export const VHD_DISK_TYPE_FIXED = 2;
/** The spec's epoch: 2000-01-01 00:00:00 UTC. */
const VHD_EPOCH_MS = Date.UTC(2000, 0, 1);

/** Byte offsets of the footer's fields. */
const AT = {
  cookie: 0,
  features: 8,
  version: 12,
  dataOffset: 16,
  timestamp: 24,
  creatorApp: 28,
  creatorVersion: 32,
  creatorHostOs: 36,
  originalSize: 40,
  currentSize: 48,
  geometry: 56,
  diskType: 60,
  checksum: 64,
  uniqueId: 68,
  savedState: 84,
} as const;

export interface VhdGeometry {
  cylinders: number;
  heads: number;
  sectorsPerTrack: number;
}

/** The virtual size Azure accepts for a disk of `bytes`: the next whole MiB (at least one). */
export function paddedVhdDiskSize(bytes: number): number {
  return Math.max(1, Math.ceil(bytes / MiB)) * MiB;
}

/**
 * CHS geometry by the spec's algorithm (Appendix, "CHS Calculation"), integer division
 * throughout; disks beyond 65535×16×255 sectors (~127 GiB) report that cap.
 */
export function vhdGeometry(sizeBytes: number): VhdGeometry {
  let totalSectors = Math.floor(sizeBytes / SECTOR);
  totalSectors = Math.min(totalSectors, 65535 * 16 * 255);
  let sectorsPerTrack: number;
  let heads: number;
  let cylinderTimesHeads: number;
  if (totalSectors >= 65535 * 16 * 63) {
    sectorsPerTrack = 255;
    heads = 16;
    cylinderTimesHeads = Math.floor(totalSectors / sectorsPerTrack);
  } else {
    sectorsPerTrack = 17;
    cylinderTimesHeads = Math.floor(totalSectors / sectorsPerTrack);
    heads = Math.max(4, Math.floor((cylinderTimesHeads + 1023) / 1024));
    if (cylinderTimesHeads >= heads * 1024 || heads > 16) {
      sectorsPerTrack = 31;
      heads = 16;
      cylinderTimesHeads = Math.floor(totalSectors / sectorsPerTrack);
    }
    if (cylinderTimesHeads >= heads * 1024) {
      sectorsPerTrack = 63;
      heads = 16;
      cylinderTimesHeads = Math.floor(totalSectors / sectorsPerTrack);
    }
  }
  return { cylinders: Math.floor(cylinderTimesHeads / heads), heads, sectorsPerTrack };
}

/** One's complement of the byte sum, the checksum field counted as zero. */
export function vhdChecksum(footer: Uint8Array): number {
  let sum = 0;
  for (let i = 0; i < VHD_FOOTER_SIZE; i++) {
    if (i >= AT.checksum && i < AT.checksum + 4) continue;
    sum = (sum + (footer[i] ?? 0)) >>> 0;
  }
  return ~sum >>> 0;
}

export interface VhdFooterInput {
  /** The virtual size: a whole MiB (see paddedVhdDiskSize). */
  sizeBytes: number;
  /** 16 bytes, or a UUID string. */
  uniqueId: Uint8Array | string;
  timestamp: Date;
}

/** The footer of a fixed VHD of `sizeBytes`, to be written right after the disk's last byte. */
export function vhdFooter({ sizeBytes, uniqueId, timestamp }: VhdFooterInput): Buffer {
  if (!Number.isSafeInteger(sizeBytes) || sizeBytes <= 0 || sizeBytes % MiB !== 0) {
    throw new RangeError(`a VHD for Azure must be a whole number of MiB, not ${sizeBytes} bytes`);
  }
  const id =
    typeof uniqueId === 'string' ? Buffer.from(uniqueId.replace(/-/g, ''), 'hex') : Buffer.from(uniqueId);
  if (id.length !== 16) throw new RangeError(`a VHD unique id is 16 bytes, not ${id.length}`);
  const footer = Buffer.alloc(VHD_FOOTER_SIZE);
  footer.write(COOKIE, AT.cookie, 'ascii');
  footer.writeUInt32BE(FEATURES, AT.features);
  footer.writeUInt32BE(FORMAT_VERSION, AT.version);
  footer.writeBigUInt64BE(DATA_OFFSET_NONE, AT.dataOffset);
  footer.writeUInt32BE(
    Math.max(0, Math.floor((timestamp.getTime() - VHD_EPOCH_MS) / 1000)) >>> 0,
    AT.timestamp,
  );
  footer.write(CREATOR_APP, AT.creatorApp, 'ascii');
  footer.writeUInt32BE(CREATOR_VERSION, AT.creatorVersion);
  footer.write(CREATOR_HOST_OS, AT.creatorHostOs, 'ascii');
  footer.writeBigUInt64BE(BigInt(sizeBytes), AT.originalSize);
  footer.writeBigUInt64BE(BigInt(sizeBytes), AT.currentSize);
  const geometry = vhdGeometry(sizeBytes);
  footer.writeUInt16BE(geometry.cylinders, AT.geometry);
  footer.writeUInt8(geometry.heads, AT.geometry + 2);
  footer.writeUInt8(geometry.sectorsPerTrack, AT.geometry + 3);
  footer.writeUInt32BE(VHD_DISK_TYPE_FIXED, AT.diskType);
  id.copy(footer, AT.uniqueId);
  footer.writeUInt8(0, AT.savedState);
  footer.writeUInt32BE(vhdChecksum(footer), AT.checksum);
  return footer;
}

export interface VhdFooter {
  sizeBytes: number;
  originalSizeBytes: number;
  geometry: VhdGeometry;
  diskType: number;
  /** Lower-case hex, 32 digits. */
  uniqueId: string;
  timestamp: Date;
  creatorApp: string;
  creatorHostOs: string;
}

/** A footer Azure would refuse, naming the field that is wrong. */
export class VhdFooterInvalid extends Error {
  constructor(
    readonly field: 'length' | 'cookie' | 'checksum' | 'diskType' | 'currentSize',
    message: string,
  ) {
    super(`invalid VHD footer: ${message}`);
    this.name = 'VhdFooterInvalid';
  }
}

/**
 * Reads a fixed-VHD footer and checks what Azure checks: the cookie, the checksum, a fixed
 * disk, and a whole-MiB size (equal to `expectedSizeBytes`, the blob's length less the
 * footer, when given). Throws VhdFooterInvalid naming the first field that is wrong.
 */
export function parseVhdFooter(buf: Uint8Array, expectedSizeBytes?: number): VhdFooter {
  if (buf.length !== VHD_FOOTER_SIZE) {
    throw new VhdFooterInvalid('length', `${buf.length} bytes, expected ${VHD_FOOTER_SIZE}`);
  }
  const footer = Buffer.from(buf.buffer, buf.byteOffset, buf.length);
  const cookie = footer.toString('latin1', AT.cookie, AT.cookie + 8);
  if (cookie !== COOKIE)
    throw new VhdFooterInvalid('cookie', `cookie is ${JSON.stringify(cookie)}, expected "${COOKIE}"`);
  const stored = footer.readUInt32BE(AT.checksum);
  const computed = vhdChecksum(footer);
  if (stored !== computed) {
    throw new VhdFooterInvalid(
      'checksum',
      `checksum is 0x${hex32(stored)}, the bytes sum to 0x${hex32(computed)}`,
    );
  }
  const diskType = footer.readUInt32BE(AT.diskType);
  if (diskType !== VHD_DISK_TYPE_FIXED) {
    throw new VhdFooterInvalid(
      'diskType',
      `disk type is ${diskType}, Azure takes only ${VHD_DISK_TYPE_FIXED} (fixed)`,
    );
  }
  const sizeBytes = Number(footer.readBigUInt64BE(AT.currentSize));
  if (sizeBytes <= 0 || sizeBytes % MiB !== 0) {
    throw new VhdFooterInvalid('currentSize', `current size ${sizeBytes} is not a whole number of MiB`);
  }
  if (expectedSizeBytes !== undefined && sizeBytes !== expectedSizeBytes) {
    throw new VhdFooterInvalid(
      'currentSize',
      `current size ${sizeBytes}, but the disk before the footer has ${expectedSizeBytes} bytes`,
    );
  }
  return {
    sizeBytes,
    originalSizeBytes: Number(footer.readBigUInt64BE(AT.originalSize)),
    geometry: {
      cylinders: footer.readUInt16BE(AT.geometry),
      heads: footer.readUInt8(AT.geometry + 2),
      sectorsPerTrack: footer.readUInt8(AT.geometry + 3),
    },
    diskType,
    uniqueId: footer.toString('hex', AT.uniqueId, AT.uniqueId + 16),
    timestamp: new Date(VHD_EPOCH_MS + footer.readUInt32BE(AT.timestamp) * 1000),
    creatorApp: footer.toString('latin1', AT.creatorApp, AT.creatorApp + 4),
    creatorHostOs: footer.toString('latin1', AT.creatorHostOs, AT.creatorHostOs + 4),
  };
}

function hex32(n: number): string {
  return n.toString(16).padStart(8, '0');
}
