import { open, rename, rm, stat } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { DiskWriter, OpenDiskWriterInput, UploadedDisk } from '../provider.js';
import { nonRetryable, retryable } from '../common/errors.js';
import { checkCommittedChecksum } from '../common/transfer/committed-checksum.js';
import {
  deterministicId,
  readJson,
  syncDir,
  writeJsonAtomically,
  type LocalDisk,
  type LocalStore,
} from './store.js';

const MiB = 1024 * 1024;

/** One disk per run and region: a retried upload writes to the same file. */
export function diskIdFor(releaseToken: string): string {
  return deterministicId('disk', releaseToken);
}

/**
 * Writes the disk as a sparse file in `staging/`: skipped zero blocks stay holes, which read
 * back as zeros, so the local cloud stores only the data. It becomes `disks/<diskId>.raw`
 * only at commit, and the `.json` next to it, written last, marks it complete.
 *
 * Each write opens the part file for itself: the transfer may give up on a writer without
 * committing or aborting it (an attempt that failed and will resume), and then there is no
 * open file left behind to leak.
 */
export async function openLocalDiskWriter(
  store: LocalStore,
  input: OpenDiskWriterInput,
): Promise<DiskWriter> {
  const { release, region, checksum } = input;
  const { account } = release;
  const diskId = diskIdFor(release.releaseToken);
  const disabled = await store.closedReason(account, region, 'enabled');
  if (disabled) throw nonRetryable('CloudPermissionDenied', `local region ${region} is not enabled for ${account}: ${disabled}`);
  await store.ensureDir(account, region, 'staging');
  await store.ensureDir(account, region, 'disks');
  const partPath = store.stagingPart(account, region, diskId);
  const diskPath = store.diskFile(account, region, diskId);
  const metaPath = store.diskJson(account, region, diskId);

  // Only a missing part file means the earlier attempt's upload is gone. A part file shorter
  // than the offset is normal: zero blocks skipped at its end were never written.
  const resumeOffset = input.resumeFromOffset > 0 && (await exists(partPath)) ? input.resumeFromOffset : 0;
  if (resumeOffset === 0) await (await open(partPath, 'w')).close(); // start over from an empty file

  const toUploaded = (meta: LocalDisk): UploadedDisk => ({
    region,
    diskId,
    sizeBytes: meta.sizeBytes,
    bytesWritten: meta.bytesWritten,
    checksum: meta.checksum,
  });

  return {
    blockSize: MiB,
    maxConcurrentWrites: 4,
    zeroBlocksMayBeSkipped: true,
    resumeOffset,

    async writeBlock(offset, block) {
      if (offset % MiB !== 0 || block.length > MiB) {
        throw new Error(
          `block of ${block.length} bytes at ${offset} does not fit the ${MiB}-byte block grid`,
        );
      }
      const file = await open(partPath, 'r+').catch((error: unknown) => {
        throw partGone(error, partPath);
      });
      try {
        await file.write(block, 0, block.length, offset);
      } finally {
        await file.close();
      }
    },

    async commit(sizeBytes, bytesWritten, verified) {
      const committed = await readJson<LocalDisk>(metaPath);
      if (committed) {
        checkCommittedChecksum(diskId, committed.checksum, verified);
        await rm(partPath, { force: true });
        return toUploaded(committed);
      }
      // A commit that crashed after its rename left the disk but not its metadata: finish it.
      const renamedEarlier =
        !(await exists(partPath)) && (await stat(diskPath).catch(() => undefined))?.size === sizeBytes;
      if (!renamedEarlier) {
        const file = await open(partPath, 'r+').catch((error: unknown) => {
          throw partGone(error, partPath);
        });
        try {
          await file.truncate(sizeBytes); // a skipped zero tail becomes a hole of the right size
          await file.sync();
        } finally {
          await file.close();
        }
        await rename(partPath, diskPath);
      }
      const meta: LocalDisk = {
        diskId,
        region,
        releaseToken: release.releaseToken,
        sizeBytes,
        bytesWritten,
        // The transfer's checksum: a source that published none has it only now.
        checksum: verified ?? checksum,
        createdAt: new Date().toISOString(),
      };
      await writeJsonAtomically(metaPath, meta);
      await syncDir(dirname(diskPath));
      return toUploaded(meta);
    },

    async abort() {
      await rm(partPath, { force: true });
    },
  };
}

/** The part file vanished under us (aborted, discarded): the retry starts the upload over. */
function partGone(error: unknown, partPath: string): Error {
  if ((error as NodeJS.ErrnoException).code !== 'ENOENT') return error as Error;
  return retryable(
    'UploadRestartNeeded',
    `the partial upload ${partPath} is gone (aborted or discarded): the upload has to start over`,
  );
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}
