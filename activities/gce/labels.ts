import { createHash } from 'node:crypto';
import type { GceImageOptions } from '../../schemas/release-plan.js';
import type { ReleaseRef } from '../provider.js';
import { nonRetryable } from '../common/errors.js';

/**
 * Labels every GCE artifact of a release carries: the run's token finds what a retry made
 * (and what the saga removes). GCE label values are at most 63 lower-case letters, digits,
 * `-` and `_` (https://cloud.google.com/compute/docs/labeling-resources#requirements): the
 * token (a Temporal run id, a UUID) fits; the release id is folded to fit.
 */
export const LABEL = {
  releaseToken: 'imagecast-release-token',
  releaseId: 'imagecast-release',
  /** Set when a retry adopted the image: the (folded) token of the run that made it. */
  reusedFrom: 'imagecast-reused-from',
} as const;

export function labelValue(text: string): string {
  return text.toLowerCase().replace(/[^a-z0-9_-]+/g, '-').slice(0, 63);
}

export function releaseLabels(release: ReleaseRef): Record<string, string> {
  return { [LABEL.releaseToken]: labelValue(release.releaseToken), [LABEL.releaseId]: labelValue(release.releaseId) };
}

/** A Compute list filter for this run's artifacts. */
export const byReleaseToken = (release: ReleaseRef) => `labels.${LABEL.releaseToken} = "${labelValue(release.releaseToken)}"`;

/**
 * A stable requestId for one mutation of one run: Compute answers a repeated requestId with
 * the first call's operation instead of acting twice, so a retried insert whose answer was
 * lost is the same insert. It must be a UUID (not the zero one):
 * https://cloud.google.com/compute/docs/reference/rest/v1/images/insert (requestId).
 */
export function stableRequestId(release: ReleaseRef, purpose: string): string {
  const h = createHash('sha256').update(`${release.releaseToken}\0${purpose}`).digest('hex');
  // Version 5-shaped (name-based) so it reads as a UUID everywhere.
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-5${h.slice(13, 16)}-${((parseInt(h[16]!, 16) & 0x3) | 0x8).toString(16)}${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

/** The release's GCE options; a GCE call without them is a bug in the plan, not the job. */
export function gceOptions(input: { options?: { cloud: string } }): GceImageOptions {
  const options = input.options;
  if (options?.cloud !== 'gce') throw nonRetryable('InvalidJob', 'internal: a GCE step was given no GCE options');
  return options as GceImageOptions;
}
