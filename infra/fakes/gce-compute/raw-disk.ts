// images.insert's rawDisk check against a Cloud Storage emulator (fake-gcs-server), following
// GCE's import rules (https://cloud.google.com/compute/docs/import/import-existing-image):
// the object is a gzip-compressed tar in GNU or OLDGNU format whose (first) entry is
// `disk.raw`, a raw disk whose size is a whole number of GiB. The object is streamed through
// gunzip and only tar headers are kept, so a many-GiB disk costs no memory. Failures end the
// operation with INVALID_FIELD_VALUE (https://cloud.google.com/compute/docs/reference/rest/v1/errors)
// and the messages Google gives: "The tar archive is not a valid image." (openshift-ansible-contrib#137),
// "The tar archive format is not supported. Supported formats are: GNU and OLDGNU."
// (nixos-generators#221), "The file inside the tar archive was named '…'. It should be named
// 'disk.raw'." (lf-edge/eve#1289). Left out: rawDisk.sha1Checksum, containerType other than TAR.
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import { createGunzip } from 'node:zlib';
import { invalidField, OperationFailure } from './errors.js';

export const GiB = 1024 ** 3;
const BLOCK = 512;
/** Enough for a header, a GNU long name and sparse extension headers; more is not a disk image. */
const MAX_HEAD = 64 * 1024;

export interface RawDiskSource {
  bucket: string;
  object: string;
}

/** `gs://B/O` or `https://storage.googleapis.com/B/O`; other forms are refused at the call, as Google does. */
export function parseRawDiskSource(source: unknown): RawDiskSource {
  const field = 'resource.rawDisk.source';
  const text = typeof source === 'string' ? source : '';
  const match =
    /^gs:\/\/([^/]+)\/(.+)$/.exec(text) ??
    /^https:\/\/storage\.(?:googleapis|cloud\.google)\.com\/([^/]+)\/(.+)$/.exec(text);
  if (!match) throw invalidField(field, source, 'The provided source is not a supported file.');
  const object = text.startsWith('gs://') ? match[2]! : decodeURIComponent(match[2]!);
  return { bucket: match[1]!, object };
}

export interface RawDisk {
  archiveSizeBytes: number;
  diskSizeBytes: number;
}

const refuse = (source: string, why: string) =>
  new OperationFailure('INVALID_FIELD_VALUE', `Invalid value for field 'resource.rawDisk.source': '${source}'. ${why}`);

/** Reads the source object from the emulator and checks it as GCE's import would. */
export async function inspectRawDisk(storageEndpoint: string, source: string, signal: AbortSignal): Promise<RawDisk> {
  const { bucket, object } = parseRawDiskSource(source);
  const url = `${storageEndpoint.replace(/\/+$/, '')}/storage/v1/b/${encodeURIComponent(bucket)}/o/${encodeURIComponent(object)}`;
  const meta = await fetch(url, { signal });
  if (meta.status === 404) throw refuse(source, 'The source object does not exist.');
  if (!meta.ok) throw refuse(source, `The source object cannot be read (HTTP ${meta.status}).`);
  const archiveSizeBytes = Number(((await meta.json()) as { size?: string }).size ?? 0);

  const media = await fetch(`${url}?alt=media`, { signal });
  if (!media.ok || !media.body) throw refuse(source, `The source object cannot be read (HTTP ${media.status}).`);
  const tar = new TarHead();
  try {
    await pipeline(Readable.fromWeb(media.body as WebReadableStream<Uint8Array>), createGunzip(), tar, { signal });
  } catch (error) {
    if (signal.aborted) throw error;
    if (tar.verdict) throw refuse(source, tar.verdict);
    // gunzip fails on the first bytes when the object is not gzip at all, later when it is cut short.
    throw refuse(source, tar.total === 0 ? 'The provided source is not a supported file.' : 'The tar archive is not a valid image.');
  }
  const entry = tar.entry;
  if (tar.verdict || !entry) throw refuse(source, tar.verdict ?? 'The tar archive is not a valid image.');
  if (tar.total < entry.dataEnd) throw refuse(source, 'The tar archive is not a valid image.');
  if (entry.name !== 'disk.raw') {
    throw refuse(source, `The file inside the tar archive was named '${entry.name}'. It should be named 'disk.raw'.`);
  }
  if (entry.size === 0 || entry.size % GiB !== 0) {
    throw refuse(source, `The size of disk.raw (${entry.size} bytes) must be a multiple of 1 GiB.`);
  }
  return { archiveSizeBytes, diskSizeBytes: entry.size };
}

interface TarEntry {
  name: string;
  /** The file's size; for a GNU sparse file its real (expanded) size. */
  size: number;
  /** Offset in the tar where the entry's stored data (and padding) ends. */
  dataEnd: number;
}

/** A sink that keeps the tar's first headers, counts the rest, and judges the first entry. */
class TarHead extends Writable {
  total = 0;
  entry?: TarEntry;
  verdict?: string;
  private head = Buffer.alloc(0);

  override _write(chunk: Buffer, _encoding: BufferEncoding, done: (error?: Error | null) => void): void {
    this.total += chunk.length;
    if (!this.entry && !this.verdict) {
      this.head = Buffer.concat([this.head, chunk.subarray(0, MAX_HEAD - this.head.length)]);
      const parsed = parseFirstEntry(this.head);
      if (typeof parsed === 'string') this.verdict = parsed;
      else if (parsed) this.entry = parsed;
      else if (this.head.length >= MAX_HEAD) this.verdict = 'The tar archive is not a valid image.';
      if (this.entry || this.verdict) this.head = Buffer.alloc(0);
    }
    done();
  }
}

/** A tar number: octal ASCII, or GNU base-256 (high bit set) for sizes of 8 GiB and more. */
function tarNumber(field: Buffer): number {
  if (field[0]! & 0x80) {
    let value = field[0]! & 0x7f;
    for (const byte of field.subarray(1)) value = value * 256 + byte;
    return value;
  }
  const text = field.toString('latin1').replace(/\0.*$/s, '').trim();
  return text === '' ? 0 : parseInt(text, 8);
}

const cString = (field: Buffer) => field.toString('utf8').replace(/\0.*$/s, '');
const padded = (size: number) => Math.ceil(size / BLOCK) * BLOCK;

function checksumOk(header: Buffer): boolean {
  let sum = 0;
  for (let i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? 0x20 : header[i]!;
  return sum === tarNumber(header.subarray(148, 156));
}

/** The first entry; undefined while more bytes are needed; a string when GCE would refuse the archive. */
function parseFirstEntry(buf: Buffer): TarEntry | string | undefined {
  let at = 0;
  let longName: string | undefined;
  for (;;) {
    if (buf.length < at + BLOCK) return undefined;
    const header = buf.subarray(at, at + BLOCK);
    if (header.every((b) => b === 0) || !checksumOk(header)) return 'The tar archive is not a valid image.';
    if (header.subarray(257, 265).toString('latin1') !== 'ustar  \0') {
      return 'The tar archive format is not supported. Supported formats are: GNU and OLDGNU.';
    }
    const type = String.fromCharCode(header[156]!);
    const stored = tarNumber(header.subarray(124, 136));
    if (type === 'L') {
      // GNU long name: the name is the entry's data, the real header follows it.
      if (buf.length < at + BLOCK + stored) return undefined;
      longName = cString(buf.subarray(at + BLOCK, at + BLOCK + stored));
      at += BLOCK + padded(stored);
      continue;
    }
    const name = longName ?? cString(header.subarray(0, 100));
    let dataStart = at + BLOCK;
    let size = stored;
    if (type === 'S') {
      size = tarNumber(header.subarray(483, 495));
      // Sparse maps longer than four entries continue in extension blocks, flagged at 482 then 504.
      let extended = header[482] !== 0;
      while (extended) {
        if (buf.length < dataStart + BLOCK) return undefined;
        extended = buf[dataStart + 504] !== 0;
        dataStart += BLOCK;
      }
    }
    return { name, size, dataEnd: dataStart + padded(stored) };
  }
}
