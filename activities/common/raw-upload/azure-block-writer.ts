import type { ContainerClient } from '@azure/storage-blob';
import type { DiskWriter, OpenObjectWriterInput, UploadedDisk } from '../../provider.js';

const MiB = 1024 ** 2;
/** A block blob holds 50 000 blocks: 16 MiB blocks hold 780 GiB; bigger files get bigger blocks. */
const MIN_BLOCK = 16 * MiB;
const MAX_BLOCKS = 50_000;
const UNKNOWN_SIZE_BLOCK = 64 * MiB;
const PARALLEL_BLOCKS = 4;

export function blockSizeFor(sizeBytes: number | undefined): number {
  if (sizeBytes === undefined) return UNKNOWN_SIZE_BLOCK;
  return Math.max(MIN_BLOCK, Math.ceil(sizeBytes / MAX_BLOCKS / MiB) * MiB);
}

/**
 * Block ids name the block's place in the file (ids of one blob must all be as long), so a
 * retry finds what it staged by asking the blob's uncommitted block list, and staging a
 * block again under its id replaces it: no second copy of anything.
 */
export function blockId(index: number): string {
  return Buffer.from(`imagecast-${String(index).padStart(8, '0')}`).toString('base64');
}

/**
 * One block blob: a staged block per transfer block (Put Block, 4 in flight), then Put Block
 * List commits them in order and the blob appears whole. A retry continues when the blob's
 * uncommitted list holds every block below the resume offset at the checkpoint's block size;
 * otherwise it stages everything again under the same ids (Azure drops uncommitted blocks a
 * week after the last change, and a commit drops the ones it does not name).
 */
export async function openAzureBlockWriter(
  container: ContainerClient,
  input: OpenObjectWriterInput,
): Promise<DiskWriter> {
  const blob = container.getBlockBlobClient(input.key);
  const blockSize = blockSizeFor(input.sizeBytes);
  const resumeOffset = (await heldBelow(
    input,
    blockSize,
    async () => (await blob.getBlockList('uncommitted')).uncommittedBlocks ?? [],
  ))
    ? input.resumeFromOffset
    : 0;
  return {
    blockSize,
    maxConcurrentWrites: PARALLEL_BLOCKS,
    zeroBlocksMayBeSkipped: false,
    resumeOffset,
    async writeBlock(offset, block) {
      await blob.stageBlock(blockId(offset / blockSize), block, block.length);
    },
    checkpoint: () => ({ blockSize }),
    async commit(sizeBytes, bytesWritten): Promise<UploadedDisk> {
      const count = Math.max(1, Math.ceil(sizeBytes / blockSize));
      if (sizeBytes === 0) await blob.stageBlock(blockId(0), Buffer.alloc(0), 0);
      await blob.commitBlockList(
        Array.from({ length: count }, (_, i) => blockId(i)),
        {
          metadata: { imagecastreleasetoken: input.release.releaseToken },
          blobHTTPHeaders: { blobContentType: input.contentType ?? 'application/octet-stream' },
        },
      );
      return {
        region: '',
        diskId: blob.url,
        sizeBytes,
        bytesWritten,
        checksum: { algorithm: 'sha512', hex: '' },
      };
    },
    async abort() {
      // Uncommitted blocks cannot be deleted one by one; they expire, and nothing names them.
    },
  };
}

async function heldBelow(
  input: OpenObjectWriterInput,
  blockSize: number,
  uncommitted: () => Promise<Array<{ name: string; size: number }>>,
): Promise<boolean> {
  const { resumeFromOffset, checkpoint } = input;
  if (resumeFromOffset <= 0 || checkpoint?.blockSize !== blockSize || resumeFromOffset % blockSize !== 0)
    return false;
  const blocks = await uncommitted().catch((error: { statusCode?: number }) => {
    if (error.statusCode === 404) return [];
    throw error;
  });
  const whole = new Set(blocks.filter((b) => b.size === blockSize).map((b) => b.name));
  for (let i = 0; i < resumeFromOffset / blockSize; i++) if (!whole.has(blockId(i))) return false;
  return true;
}
