// How `imagecast imagelist add|list|show|set|…` show a stored list: JSON (--json) and text,
// with its expiry and, while renewal cannot publish it, why.
import { formatHepixDate } from '../../../activities/common/imagelist/hepix-date.js';
import type { StoredImageList } from '../../../activities/common/imagelist/list-document.js';
import { expiryOf } from '../../../activities/common/imagelist/list-expiry.js';
import type { RenewalFailure } from '../../../activities/common/imagelist/renewal-failures.js';

export type ListJson = ReturnType<typeof listJson>;

/**
 * What show and --json give: the stored list, its dates in HEPiX form, whether it needs
 * publishing, and why renewal could not publish it (while that lasts).
 */
export function listJson(list: StoredImageList, now: Date, notRenewed?: RenewalFailure) {
  const { publishedAt, expiresAt, ...rest } = list;
  return {
    ...rest,
    publishedAt: publishedAt ? formatHepixDate(publishedAt) : null,
    expiresAt: expiresAt ? formatHepixDate(expiresAt) : null,
    ...expiryOf(list, now),
    ...(notRenewed && {
      notRenewed: {
        reason: notRenewed.reason,
        failingSince: formatHepixDate(notRenewed.failingSince),
        lastFailedAt: formatHepixDate(notRenewed.lastFailedAt),
        notifiedAt: notRenewed.notifiedAt ? formatHepixDate(notRenewed.notifiedAt) : null,
      },
    }),
  };
}

export function summaryText(l: ListJson): string {
  const when =
    l.status === 'unpublished'
      ? 'never published'
      : l.status === 'expired'
        ? `EXPIRED at ${l.expiresAt}: publish it again`
        : l.status === 'expiring'
          ? `EXPIRES SOON, at ${l.expiresAt} (${l.daysLeft} day(s)): publish it again`
          : `expires ${l.expiresAt}`;
  const failing = l.notRenewed
    ? `; NOT RENEWED since ${l.notRenewed.failingSince}: ${l.notRenewed.reason}`
    : '';
  return `${l.identifier} ${JSON.stringify(l.metadata['dc:title'])} version ${l.version}, ${l.images.length} image(s), ${when}${failing}`;
}

export function showText(l: ListJson): string {
  const renewedFor =
    l.publishedLifetimeDays !== undefined && l.publishedLifetimeDays !== l.lifetimeDays
      ? ` (last published for ${l.publishedLifetimeDays} days: renewal keeps that until the next publish or set lifetime)`
      : '';
  const lines = [
    summaryText(l),
    `  endorser: ${l.endorserDn}`,
    `  lifetime: ${l.lifetimeDays} days${renewedFor}`,
  ];
  for (const [key, value] of Object.entries(l.metadata)) lines.push(`  ${key}: ${JSON.stringify(value)}`);
  if (l.publishedAt) lines.push(`  last published: ${l.publishedAt}`);
  for (const image of l.images)
    lines.push(
      `  image ${String(image['dc:identifier'])} ${JSON.stringify(image['dc:title'])} version ${String(image['hv:version'])}: ${String(image['hv:uri'])}`,
    );
  return lines.join('\n');
}
