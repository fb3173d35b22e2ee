// One S3 multipart upload, as both S3 writers use it: the raw image upload's object writer
// (raw-upload/s3-object-writer.ts) and EC2's import staging (ec2/s3-import-writer.ts). A part per
// transfer block, in any order; a retry continues an upload whose parts cover its resume offset;
// completing checks that every part is there. lib-storage's `Upload` is not used: it streams in
// order and cannot continue an earlier attempt's upload.
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  ListPartsCommand,
  UploadPartCommand,
  type CreateMultipartUploadCommandInput,
  type Part,
  type S3Client,
} from '@aws-sdk/client-s3';
import type { DiskWriter } from '../../provider.js';

const MiB = 1024 ** 2;
/** S3 allows 10 000 parts per upload, each but the last at least 5 MiB. */
const MAX_PARTS = 10_000;
/** 16 MiB parts hold 160 GiB in 10 000 parts; bigger uploads get bigger parts. */
const MIN_PART = 16 * MiB;
/** Parts in flight: 4 × 16 MiB keeps memory bounded and a fast link busy. */
export const PARALLEL_PARTS = 4;

/** The part size for `bytes`: the smallest MiB multiple ≥ 16 MiB that fits in 10 000 parts. */
export function multipartPartSize(bytes: number): number {
  return Math.max(MIN_PART, Math.ceil(bytes / MAX_PARTS / MiB) * MiB);
}

/**
 * How each S3 call is made: EC2 wraps them to classify AWS errors for Temporal's retries
 * (ec2/aws-errors.ts `aws`); the raw upload lets the SDK's errors through.
 */
export type S3Call = <T>(action: string, run: () => Promise<T>) => Promise<T>;
const direct: S3Call = (_action, run) => run();

/** An upload in progress: where it goes and the id S3 gave it. */
export interface MultipartUpload {
  bucket: string;
  key: string;
  uploadId: string;
}

export class S3Multipart {
  constructor(
    private readonly s3: S3Client,
    private readonly call: S3Call = direct,
  ) {}

  /** Starts an upload of `input.Key` (nothing is visible under it until completed). */
  async create(
    input: CreateMultipartUploadCommandInput & { Bucket: string; Key: string },
  ): Promise<MultipartUpload> {
    const created = await this.call('CreateMultipartUpload', () =>
      this.s3.send(new CreateMultipartUploadCommand(input)),
    );
    return { bucket: input.Bucket, key: input.Key, uploadId: created.UploadId! };
  }

  /** The block at `offset` as its part (numbered from the offset, so order does not matter and a resend replaces it). */
  async uploadPart(upload: MultipartUpload, partSize: number, offset: number, block: Buffer): Promise<void> {
    await this.call('UploadPart', () =>
      this.s3.send(
        new UploadPartCommand({
          Bucket: upload.bucket,
          Key: upload.key,
          UploadId: upload.uploadId,
          PartNumber: offset / partSize + 1,
          Body: block,
          ContentLength: block.length,
        }),
      ),
    );
  }

  /**
   * The block-writing half of a DiskWriter over the upload: a part per block, 4 in flight,
   * zero blocks sent too (an S3 object is not sparse). Each writer adds its own resume,
   * commit and abort.
   */
  partWriter(
    upload: MultipartUpload,
    partSize: number,
  ): Pick<DiskWriter, 'blockSize' | 'maxConcurrentWrites' | 'zeroBlocksMayBeSkipped' | 'writeBlock'> {
    return {
      blockSize: partSize,
      maxConcurrentWrites: PARALLEL_PARTS,
      zeroBlocksMayBeSkipped: false,
      writeBlock: (offset, block) => this.uploadPart(upload, partSize, offset, block),
    };
  }

  /** Every part the upload holds, by number. */
  async parts(upload: MultipartUpload): Promise<Part[]> {
    const parts: Part[] = [];
    let marker: string | undefined;
    do {
      const page = await this.call('ListParts', () =>
        this.s3.send(
          new ListPartsCommand({
            Bucket: upload.bucket,
            Key: upload.key,
            UploadId: upload.uploadId,
            PartNumberMarker: marker,
          }),
        ),
      );
      parts.push(...(page.Parts ?? []));
      marker = page.IsTruncated ? page.NextPartNumberMarker : undefined;
    } while (marker);
    return parts.sort((a, b) => a.PartNumber! - b.PartNumber!);
  }

  /**
   * Whether the upload holds every whole part below `resumeFrom` (a retry may then continue
   * it from there). An offset between parts cannot be continued.
   */
  async holdsBelow(upload: MultipartUpload, partSize: number, resumeFrom: number): Promise<boolean> {
    if (resumeFrom <= 0 || resumeFrom % partSize !== 0) return false;
    const whole = new Set(
      (await this.parts(upload)).filter((p) => p.Size === partSize).map((p) => p.PartNumber),
    );
    let held = 0;
    while (whole.has(held + 1)) held++;
    return held * partSize >= resumeFrom;
  }

  /** Completes the upload once it holds every part of `sizeBytes`; else says the upload must run again. */
  async complete(upload: MultipartUpload, partSize: number, sizeBytes: number): Promise<void> {
    const parts = await this.parts(upload);
    const expected = Math.max(1, Math.ceil(sizeBytes / partSize));
    if (parts.length !== expected)
      throw new Error(
        `s3://${upload.bucket}/${upload.key}: S3 holds ${parts.length} of ${expected} parts; the upload must run again`,
      );
    await this.call('CompleteMultipartUpload', () =>
      this.s3.send(
        new CompleteMultipartUploadCommand({
          Bucket: upload.bucket,
          Key: upload.key,
          UploadId: upload.uploadId,
          MultipartUpload: { Parts: parts.map(({ PartNumber, ETag }) => ({ PartNumber, ETag })) },
        }),
      ),
    );
  }

  async abort(upload: MultipartUpload): Promise<void> {
    await this.call('AbortMultipartUpload', () =>
      this.s3.send(
        new AbortMultipartUploadCommand({
          Bucket: upload.bucket,
          Key: upload.key,
          UploadId: upload.uploadId,
        }),
      ),
    );
  }
}
