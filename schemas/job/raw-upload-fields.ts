import { z } from 'zod';
import { LIMITS } from './limits.js';

/**
 * mash's raw image upload: the image file, as the build service serves it, copied to a
 * bucket. mash knows `s3bucket` (an EC2 account's keys) and `azure_sas` (a SAS URL in the
 * job document); Imagecast adds `gcs` and `azure_blob`, which use a stored account.
 */
export const RAW_UPLOAD_TYPES = ['s3bucket', 'gcs', 'azure_blob'] as const;
export type RawUploadType = (typeof RAW_UPLOAD_TYPES)[number];

/** mash's additional_uploads: files next to the image, named `<image file>.<suffix>`. */
export const ADDITIONAL_UPLOADS = ['sha256', 'sha256.asc', 'sha512', 'packages'] as const;

export const rawUploadShape = {
  raw_image_upload_type: z
    .enum(RAW_UPLOAD_TYPES, {
      error: (issue) =>
        issue.input === 'azure_sas'
          ? '"azure_sas" puts a SAS token (a secret) into the job document, which Imagecast never carries: use "azure_blob" with raw_image_upload_account naming an Azure account'
          : undefined,
    })
    .optional()
    .describe(
      'mash: copy the image file, as served, to a bucket after the test step. "s3bucket" (mash): an S3 bucket, with an EC2 account. Imagecast additions: "gcs", a Google Cloud Storage bucket with a GCE account; "azure_blob", a blob container with an Azure account. mash\'s "azure_sas" is refused: its SAS token would be a secret in the job.',
    ),
  raw_image_upload_location: z
    .string()
    .min(1)
    .max(LIMITS.url)
    .regex(
      /^[a-z0-9][a-z0-9._-]*(\/[^/]+)*\/?$/,
      'BUCKET, BUCKET/PREFIX/ or BUCKET/KEY (azure_blob: STORAGE_ACCOUNT/CONTAINER[/PREFIX/]), without a scheme',
    )
    .optional()
    .meta({
      description:
        "mash: where the file goes. s3bucket and gcs: BUCKET (the object is named after the image), BUCKET/PREFIX/ (the same name under PREFIX/), or BUCKET/KEY (that exact name). azure_blob: STORAGE_ACCOUNT/CONTAINER, then the same. {date} becomes the date of the image name (the build's with use_build_time). The object is named cloud_image_name plus the file's two last suffixes (e.g. .raw.xz), as in mash.",
      examples: ['my-bucket/images/', 'imagecastsa/images/leap/'],
    }),
  raw_image_upload_account: z
    .string()
    .min(1)
    .max(LIMITS.name)
    .optional()
    .meta({
      description:
        'mash: the account whose stored credentials write to the bucket: an EC2 account for s3bucket, a GCE account for gcs, an Azure account for azure_blob.',
      examples: ['my_aws_account'],
    }),
  additional_uploads: z
    .array(z.enum(ADDITIONAL_UPLOADS))
    .max(ADDITIONAL_UPLOADS.length)
    .optional()
    .meta({
      description:
        'mash: files the build service serves next to the image (IMAGE.<suffix>) copied alongside it, e.g. its checksum and signature. mash allows sha256 and sha256.asc; Imagecast adds sha512 and packages.',
      examples: [['sha256', 'sha256.asc']],
      uniqueItems: true,
    }),
};

type Issue = { path: Array<string | number>; message: string };

/** The raw upload fields go together: a type needs a location and an account, and the others need a type. */
export function rawUploadCrossFieldIssues(doc: Record<string, unknown>): Issue[] {
  const issues: Issue[] = [];
  if (doc.raw_image_upload_type !== undefined) {
    for (const field of ['raw_image_upload_location', 'raw_image_upload_account'] as const) {
      if (doc[field] === undefined) {
        issues.push({
          path: [field],
          message: `required: raw_image_upload_type ${JSON.stringify(doc.raw_image_upload_type)} needs it`,
        });
      }
    }
    const location = doc.raw_image_upload_location;
    if (
      doc.raw_image_upload_type === 'azure_blob' &&
      typeof location === 'string' &&
      !location.includes('/')
    ) {
      issues.push({
        path: ['raw_image_upload_location'],
        message: `expected STORAGE_ACCOUNT/CONTAINER[/PREFIX/] for azure_blob, got string ${JSON.stringify(location)}`,
      });
    }
  } else {
    for (const field of [
      'raw_image_upload_location',
      'raw_image_upload_account',
      'additional_uploads',
    ] as const) {
      if (doc[field] !== undefined)
        issues.push({ path: [field], message: 'only with raw_image_upload_type, which says where it goes' });
    }
  }
  if (Array.isArray(doc.additional_uploads)) {
    const seen = new Set<unknown>();
    doc.additional_uploads.forEach((suffix: unknown, i) => {
      if (seen.has(suffix))
        issues.push({
          path: ['additional_uploads', i],
          message: `${JSON.stringify(suffix)} is listed twice`,
        });
      seen.add(suffix);
    });
  }
  return issues;
}
