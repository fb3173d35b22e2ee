import { open, rename, rm, stat, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import type { DiskWriter, OpenDiskWriterInput, UploadedDisk } from '../provider.js';
import { deterministicId, readJson, writeJsonAtomically, type LocalStore } from './store.js';

const MiB = 1024 * 1024;

interface DiskMeta extends UploadedDisk {
  releaseToken: string;
  createdAt: string;
}

export function diskIdFor(releaseToken: string): string {
  return deterministicId('disk', releaseToken);
}

/**
 * Writes the disk as a sparse file: skipped zero blocks stay holes, which read back as
 * zeros, so the local cloud stores only the data. Visible under disks/ only after commit.
 */
export async function openLocalDiskWriter(store: LocalStore, input: OpenDiskWriterInput): Promise<DiskWriter> {
  const { release, region } = input;
  const staging = await store.ensureDir(release.account, region, 'staging');
  const disks = await store.ensureDir(release.account, region, 'disks');
  const diskId = diskIdFor(release.releaseToken);
  const partPath = join(staging, `${diskId}.raw.part`);
  const diskPath = join(disks, `${diskId}.raw`);
  const metaPath = join(disks, `${diskId}.json`);

  const resumable = input.resumeFromOffset > 0 && (await exists(partPath));
  const file: FileHandle = await open(partPath, resumable ? 'r+' : 'w');
  let closed = false;
  const close = async () => {
    if (!closed) await file.close();
    closed = true;
  };

  return {
    blockSize: MiB,
    maxConcurrentWrites: 4,
    zeroBlocksMayBeSkipped: true,
    resumeOffset: resumable ? input.resumeFromOffset : 0,

    async writeBlock(offset, block) {
      await file.write(block, 0, block.length, offset);
    },

    async commit(sizeBytes, bytesWritten) {
      const existing = await readJson<DiskMeta>(metaPath);
      if (existing) {
        await close();
        await rm(partPath, { force: true });
        return stripMeta(existing);
      }
      await file.truncate(sizeBytes);
      await file.sync();
      await close();
      await rename(partPath, diskPath);
      const meta: DiskMeta = {
        region,
        diskId,
        sizeBytes,
        bytesWritten,
        checksum: input.checksum,
        releaseToken: release.releaseToken,
        createdAt: new Date().toISOString(),
      };
      await writeJsonAtomically(metaPath, meta);
      return stripMeta(meta);
    },

    async abort() {
      await close();
      await rm(partPath, { force: true });
    },
  };
}

function stripMeta({ region, diskId, sizeBytes, bytesWritten, checksum }: DiskMeta): UploadedDisk {
  return { region, diskId, sizeBytes, bytesWritten, checksum };
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}
