import { open } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';

const MiB = 1024 * 1024;

/**
 * Writes a raw disk image shaped like a real one: a boot area, scattered data and long runs
 * of zeros (most of a fresh cloud image is empty), so zero-block skipping has work to do.
 * Written sparse: only the data regions take space.
 */
export async function writeDemoDisk(path: string, sizeMiB = 128): Promise<void> {
  const file = await open(path, 'w');
  try {
    await file.truncate(sizeMiB * MiB);
    await file.write(randomBytes(MiB), 0, MiB, 0);
    for (let mib = 8; mib < sizeMiB; mib += 8) await file.write(randomBytes(MiB), 0, MiB, mib * MiB);
  } finally {
    await file.close();
  }
}
