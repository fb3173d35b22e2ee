import { patched } from '@temporalio/workflow';
import type { ResolvedImageSource, UploadedDisk } from '../activities/provider.js';

/**
 * Marks histories whose releases take an S3 object that published no checksum (no
 * `<key>.sha256`, no SHA-256 stored by S3) and use the sha256 the upload computed as the
 * build's checksum from then on (catalog, tags, image lists, raw upload, a retry's pin).
 */
export const STREAM_CHECKSUM_PATCH = 's3-source-checksum-from-stream';

/**
 * What the release says about such a checksum, in its status and result: it is the digest of
 * the bytes read, and nothing checked those bytes against the build's own digest.
 */
export interface ChecksumStatus {
  /** `sha256:<hex>`. */
  value: string;
  verified: false;
  /** For people: where the checksum came from and what that leaves unchecked. */
  note: string;
}

/**
 * The build's checksum is not known before the upload: it comes from the upload's stream.
 * Every step before the upload does without it (each says why where it asks this): the image
 * name and preflight never used it; a retry's adoption matches earlier uploads by it, and an
 * earlier run that completed an upload left its computed checksum in the pin, so only runs
 * that uploaded nothing come here, and they left nothing complete to adopt.
 */
export function checksumPending(source: ResolvedImageSource): boolean {
  return source.checksumFrom === 'stream' && source.checksum.hex === '' && patched(STREAM_CHECKSUM_PATCH);
}

/** The source with the checksum its upload computed: the build's checksum from now on. */
export function withComputedChecksum(source: ResolvedImageSource, disk: UploadedDisk): ResolvedImageSource {
  return {
    ...source,
    checksum: { algorithm: disk.checksum.algorithm, hex: disk.checksum.hex.toLowerCase() },
  };
}

/** The status entry for a checksum computed from the stream (undefined for a published one). */
export function streamChecksumStatus(source: ResolvedImageSource): ChecksumStatus | undefined {
  if (source.checksumFrom !== 'stream' || source.checksum.hex === '') return undefined;
  return {
    value: `${source.checksum.algorithm}:${source.checksum.hex}`,
    verified: false,
    note:
      `computed, not verified: ${source.url} has no ${source.fileName}.sha256 and S3 stored no SHA-256 for it, ` +
      `so this is the digest of the bytes read; a corrupted read would not be detected. Publish ${source.fileName}.sha256 beside it to have it verified`,
  };
}

/** The download step's words for the build's checksum. */
export function checksumWords(source: ResolvedImageSource): string {
  const sum = source.checksum;
  if (source.checksumFrom === 'stream' && sum.hex === '')
    return 'no published checksum: the upload computes its sha256, unverified';
  const short = `${sum.algorithm} ${sum.hex.slice(0, 12)}…`;
  return source.checksumFrom === 'stream' ? `${short}, computed by an earlier read, not verified` : short;
}
