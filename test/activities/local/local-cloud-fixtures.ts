import { createHash, randomBytes } from 'node:crypto';
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { createLocalCloud } from '../../../activities/local/index.js';
import type {
  CloudProvider,
  CreateImageInput,
  ReleaseRef,
  UploadedDisk,
} from '../../../activities/provider.js';
import { tempDir } from '../../support/stack.js';

export const MiB = 1024 * 1024;

/** A local cloud in its own temp directory. */
export function freshLocalCloud(label: string): { cloud: CloudProvider; dataDir: string } {
  const dataDir = tempDir(`local-${label}`);
  return { cloud: createLocalCloud({ dataDir }), dataDir };
}

export function releaseRef(account = 'acct'): ReleaseRef {
  const run = randomBytes(4).toString('hex');
  return { releaseId: `release-${run}`, releaseToken: `token-${run}`, cloud: 'local', account };
}

/**
 * A disk like a fresh cloud image: data in some 1 MiB blocks, zeros in the rest, and a
 * short last block. `dataBlocks` lists the block numbers holding data.
 */
export function testDisk(blocks: number, dataBlocks: number[], tailBytes = 4096): Buffer {
  const disk = Buffer.alloc(blocks * MiB + tailBytes);
  for (const b of dataBlocks) randomBytes(MiB).copy(disk, b * MiB);
  if (tailBytes > 0) randomBytes(tailBytes).copy(disk, blocks * MiB);
  return disk;
}

/** The disk's blocks as the transfer cuts them: offset and bytes, the last one short. */
export function blocksOf(disk: Buffer): Array<{ offset: number; block: Buffer }> {
  const blocks = [];
  for (let offset = 0; offset < disk.length; offset += MiB) {
    blocks.push({ offset, block: disk.subarray(offset, Math.min(offset + MiB, disk.length)) });
  }
  return blocks;
}

export function isZero(block: Buffer): boolean {
  return block.every((byte) => byte === 0);
}

/** Uploads a disk the way the transfer does: non-zero blocks only, several at once. */
export async function uploadDisk(
  cloud: CloudProvider,
  release: ReleaseRef,
  region: string,
  disk: Buffer,
): Promise<UploadedDisk> {
  const writer = await cloud.openDiskWriter({
    release,
    region,
    checksum: checksumOf(disk),
    resumeFromOffset: 0,
  });
  const data = blocksOf(disk).filter((b) => !isZero(b.block));
  await Promise.all(data.map((b) => writer.writeBlock(b.offset, b.block)));
  return writer.commit(
    disk.length,
    data.reduce((n, b) => n + b.block.length, 0),
  );
}

export function checksumOf(disk: Buffer): UploadedDisk['checksum'] {
  return { algorithm: 'sha256', hex: createHash('sha256').update(disk).digest('hex') };
}

export function createInput(release: ReleaseRef, disk: UploadedDisk, imageName: string): CreateImageInput {
  return {
    release,
    disk,
    imageName,
    description: 'a test image',
    architecture: 'x86_64',
    bootFirmware: ['uefi'],
    source: {
      url: 'file:///builds/test.raw',
      fileName: 'test.raw',
      compression: 'none',
      checksum: disk.checksum,
      version: '1.0.0',
      release: '7',
    },
  };
}

/** Bytes the file system allocated for a file: less than its size when it has holes. */
export async function allocatedBytes(path: string): Promise<number> {
  return (await stat(path)).blocks * 512;
}

/** Every file under `dir`, relative to it, sorted. */
export async function filesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries
    .filter((e) => e.isFile())
    .map((e) => join(e.parentPath, e.name).slice(dir.length + 1))
    .sort();
}
