import type { Tag } from '@aws-sdk/client-ec2';
import type { ReleaseRef } from '../provider.js';

/**
 * Tags every artifact of a release carries: the run's token finds what a retry already
 * made (and what the saga must remove); the release id and checksum say where it came from.
 */
export const TAG = {
  releaseToken: 'imagecast:release-token',
  releaseId: 'imagecast:release-id',
  checksum: 'imagecast:checksum',
  deprecatedOn: 'Deprecated on',
  replacementImage: 'Replacement image',
} as const;

export function releaseTags(release: ReleaseRef, checksum?: string): Tag[] {
  return [
    { Key: TAG.releaseToken, Value: release.releaseToken },
    { Key: TAG.releaseId, Value: release.releaseId.slice(0, 256) },
    ...(checksum ? [{ Key: TAG.checksum, Value: checksum }] : []),
  ];
}

export function tagValue(tags: Tag[] | undefined, key: string): string | undefined {
  return tags?.find((t) => t.Key === key)?.Value;
}

export const byReleaseToken = (release: ReleaseRef) => [
  { Name: `tag:${TAG.releaseToken}`, Values: [release.releaseToken] },
];
