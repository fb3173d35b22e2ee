import type { ResolvedImageSource } from '../../provider.js';
import { nonRetryable } from '../errors.js';

type Checksum = ResolvedImageSource['checksum'];

/**
 * A retry that finds the disk its earlier attempt committed writes nothing, but it has read
 * the source again. With a published checksum both reads were verified against it; without
 * one (`checksumFrom: 'stream'`) the digest this read computed must be the one the disk
 * records, or the disk would carry a checksum of bytes it was not made of.
 */
export function checkCommittedChecksum(
  diskId: string,
  recorded: Checksum | string | undefined,
  computed: Checksum | undefined,
): void {
  if (!computed || recorded === undefined) return;
  const text = typeof recorded === 'string' ? recorded : `${recorded.algorithm}:${recorded.hex}`;
  const read = `${computed.algorithm}:${computed.hex}`;
  if (text.toLowerCase() === read.toLowerCase()) return;
  throw nonRetryable(
    'ChecksumMismatch',
    `${diskId} was committed by an earlier attempt from bytes with the checksum ${text}, but reading the source again gave ${read}`,
    { diskId, expected: text, actual: read },
  );
}
