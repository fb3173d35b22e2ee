import { z } from 'zod';
import { LIMITS } from './limits.js';

/** mash's `download_account`: the EC2 account whose stored keys read a download_type "S3" object. */
export const downloadAccountField = z
  .string()
  .min(1)
  .max(LIMITS.name)
  .optional()
  .meta({
    description:
      'With download_type "S3": the EC2 account (imagecast account ec2 …) whose credentials read the object. Only its name travels with the release.',
    examples: ['my_aws_account'],
  });

type Issue = { path: Array<string | number>; message: string };

/** mash: strip `s3://`, split at the first `/`: the bucket, then one object key. */
const S3_URL = /^s3:\/\/[^/]+\/.+$/;

/**
 * What an S3 object cannot give: conditions and package/license policy are checked against
 * the build-service listing (kiwi version, build release) and the build's `.packages`
 * manifest, which a bare object does not have (mash checks none of them for S3 either).
 */
const NEEDS_BUILD_SERVICE = {
  conditions:
    "conditions are checked against the build service's listing (version, release) and the build's .packages manifest, which an S3 object does not have",
  disallow_packages:
    "packages are read from the build's .packages manifest in the build-service directory, which an S3 object does not have",
  disallow_licenses:
    "licenses are read from the build's .packages manifest in the build-service directory, which an S3 object does not have",
} as const;

/** download_type, download_url and download_account go together. */
export function s3DownloadCrossFieldIssues(doc: Record<string, unknown>): Issue[] {
  const issues: Issue[] = [];
  const url = doc.download_url;
  if (doc.download_type === 'S3') {
    if (typeof url === 'string' && !S3_URL.test(url))
      issues.push({
        path: ['download_url'],
        message: `expected s3://BUCKET/OBJECT_KEY for download_type "S3", got string ${JSON.stringify(url)}`,
      });
    if (doc.download_account === undefined)
      issues.push({
        path: ['download_account'],
        message: 'required: download_type "S3" reads the object with this EC2 account\'s credentials',
      });
    for (const [field, why] of Object.entries(NEEDS_BUILD_SERVICE)) {
      const value = doc[field];
      if (Array.isArray(value) && value.length > 0)
        issues.push({ path: [field], message: `not with download_type "S3": ${why}` });
    }
  } else {
    if (typeof url === 'string' && url.startsWith('s3:'))
      issues.push({
        path: ['download_url'],
        message: `an s3:// URL needs download_type "S3" (got ${JSON.stringify(doc.download_type ?? 'OBS')}), got string ${JSON.stringify(url)}`,
      });
    if (doc.download_account !== undefined)
      issues.push({
        path: ['download_account'],
        message: 'only with download_type "S3", whose object it reads',
      });
  }
  return issues;
}
