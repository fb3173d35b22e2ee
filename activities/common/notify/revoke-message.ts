import type { ImageRef } from '../../provider.js';
import type { RevokeNotice } from '../../../schemas/revoke.js';
import type { ListPublication } from '../../../schemas/imagelist-release.js';
import type { ReleaseStatus } from '../../../workflows/release-status.js';

/** A revoke's notification (whatever its outcome, unless it blocked: that is `release.blocked`). */
export const RELEASE_REVOKED_EVENT = 'release.revoked';

/** The webhook body's `revoke`: every key present, null (or empty) when it does not apply. */
export interface RevokeWebhook {
  /** The revoked release. */
  releaseId: string;
  /** The revokeRelease workflow (`revoke-<releaseId>`). */
  revokeId: string;
  by: string;
  reason: string | null;
  /** Unshared and deprecated by the revoke. */
  withdrawn: ImageRef[];
  /** Images the release had replaced, current again. */
  restored: ImageRef[];
  /** Regions a decision left out: their images were not changed. */
  skippedRegions: string[];
  /** Signed image lists published again without the revoked release's entry (version as published). */
  imageLists: ListPublication[];
}

/**
 * How a revoke reads for people, beside the release message's shared parts (steps, blocked
 * regions, the link): this module knows only what is particular to revokes. Plain strings:
 * the release message makes them one line where a header or table cell needs it.
 */
export function revokeWebhook(notice: RevokeNotice): RevokeWebhook {
  return {
    releaseId: notice.releaseId,
    revokeId: notice.revokeId,
    by: notice.by,
    reason: notice.reason ?? null,
    withdrawn: notice.withdrawn,
    restored: notice.restored,
    skippedRegions: notice.skippedRegions ?? [],
    imageLists: notice.imageLists ?? [],
  };
}

/** `revoked: IMAGE (cloud/account) by alice: kernel regression`, or `revoke failed: …` while not done. */
export function revokeSubject(status: ReleaseStatus, notice: RevokeNotice): string {
  const outcome = status.state === 'succeeded' ? 'revoked' : `revoke ${status.state}`;
  const why = notice.reason ? `: ${shortened(notice.reason, 80)}` : '';
  return `${outcome}: ${status.imageName} (${status.cloud}/${status.account}) by ${notice.by}${why}`;
}

/** The message's first line: which release, what happened, who and why. */
export function revokeHeadline(status: ReleaseStatus, notice: RevokeNotice): string {
  const what =
    status.state === 'succeeded'
      ? 'was revoked'
      : status.state === 'blocked'
        ? 'is being revoked; the revoke is blocked'
        : `was not fully revoked: the revoke ${status.state}`;
  return `Release ${notice.releaseId} ${what} (by ${notice.by}${notice.reason ? `: ${notice.reason}` : ''}; revoke ${notice.revokeId}).`;
}

/** The revoke's tables: what was withdrawn, what is current again, which regions were left out, which lists changed. */
export function revokeSections(
  notice: RevokeNotice,
): Array<{ title: string; header: string[]; rows: string[][] }> {
  const rows = (images: ImageRef[]) =>
    images.map((i) => [i.region, i.imageId, i.imageName, ...(i.account ? [i.account] : [])]);
  return [
    {
      title: 'Withdrawn (unshared and deprecated)',
      header: ['region', 'image id', 'name'],
      rows: rows(notice.withdrawn),
    },
    {
      title: 'Current again (the images the release had replaced)',
      header: ['region', 'image id', 'name'],
      rows: rows(notice.restored),
    },
    {
      title: 'Left out by a decision (unchanged)',
      header: ['region'],
      rows: (notice.skippedRegions ?? []).map((r) => [r]),
    },
    {
      title: 'Image lists published again without it',
      header: ['list', 'version', 'images', 'uri'],
      rows: (notice.imageLists ?? []).map((l) => [l.title, l.version, String(l.images), l.uri]),
    },
  ];
}

function shortened(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}
