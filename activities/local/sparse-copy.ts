import { constants } from 'node:fs';
import { copyFile, open } from 'node:fs/promises';
import { isAllZero } from '../common/transfer/block-cutter.js';

const CHUNK = 1024 * 1024;

/**
 * Copies a disk file and keeps it sparse. `fs.copyFile` alone would not: on ext4 (no
 * reflinks) it copies through sendfile, which reads holes as zeros and writes them out, so
 * a 10 GiB image holding 1 GiB of data would cost 10 GiB per copy. So: a reflink where the
 * file system offers one (btrfs, XFS: instant, shares blocks), else a chunked copy that
 * leaves zero chunks as holes.
 */
export async function copySparseFile(from: string, to: string): Promise<void> {
  const cloned = await copyFile(from, to, constants.COPYFILE_FICLONE_FORCE).then(
    () => true,
    () => false,
  );
  if (cloned) return;
  const source = await open(from, 'r');
  try {
    const target = await open(to, 'w');
    try {
      const { size } = await source.stat();
      const chunk = Buffer.allocUnsafe(CHUNK);
      for (let offset = 0; offset < size; offset += CHUNK) {
        const { bytesRead } = await source.read(chunk, 0, Math.min(CHUNK, size - offset), offset);
        const data = chunk.subarray(0, bytesRead);
        if (!isAllZero(data)) await target.write(data, 0, bytesRead, offset);
      }
      // A zero tail was never written: the size makes it a hole that reads as zeros.
      await target.truncate(size);
      await target.sync();
    } finally {
      await target.close();
    }
  } finally {
    await source.close();
  }
}
