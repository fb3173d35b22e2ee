import type { CpuOptionsRequest, Tag } from '@aws-sdk/client-ec2';
import type { Ec2ImageOptions } from '../../schemas/release-plan.js';
import type { ReleaseRef } from '../provider.js';

/**
 * Tags every artifact of a release carries: the run's token finds what a retry already
 * made (and what the saga must remove); the release id and checksum say where it came from.
 */
export const TAG = {
  releaseToken: 'imagecast:release-token',
  releaseId: 'imagecast:release-id',
  checksum: 'imagecast:checksum',
  /** Set when a retry adopted the artifact: the token of the earlier run that made it. */
  reusedFrom: 'imagecast:reused-from',
  deprecatedOn: 'Deprecated on',
  replacementImage: 'Replacement image',
  /** The job's cpu_options on the AMI: the test instance of that AMI is launched with them. */
  cpuOptions: 'imagecast:cpu-options',
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

/**
 * Tags the job asks for on the AMI: its image_tags, and its cpu_options as
 * `imagecast:cpu-options=AmdSevSnp=enabled` (the AMI has no attribute for them, and the test
 * step only knows the AMI).
 */
export function jobImageTags(options: Ec2ImageOptions): Tag[] {
  const cpu = Object.entries(options.cpuOptions ?? {}).map(([name, value]) => `${name}=${value}`);
  return [...(options.imageTags ?? []), ...(cpu.length > 0 ? [{ Key: TAG.cpuOptions, Value: cpu.join(',') }] : [])];
}

/** The job's own tags among an AMI's (what a copy's snapshot gets too): not AWS's, not ours. */
export function userTags(tags: Tag[] | undefined): Tag[] {
  return (tags ?? []).filter((t) => t.Key !== undefined && !/^(aws|imagecast):/i.test(t.Key));
}

/** The CPU options a test instance of this AMI is launched with, from its tags. */
export function cpuOptionsOf(tags: Tag[] | undefined): CpuOptionsRequest | undefined {
  const value = tagValue(tags, TAG.cpuOptions);
  if (!value) return undefined;
  const sevSnp = /(?:^|,)AmdSevSnp=(enabled|disabled)(?:,|$)/.exec(value)?.[1] as 'enabled' | 'disabled' | undefined;
  return sevSnp ? { AmdSevSnp: sevSnp } : undefined;
}
