// Whether a published list needs publishing again: subscribers refuse it once it expires.
// The renewal schedule (renew-lists.ts) publishes a list again once half of its time has
// passed, so a list flagged as expiring is one that renewal has not reached, or could not renew.
import type { StoredImageList } from './list-document.js';

/** At most this many days before dc:date:expires a list is flagged as expiring. */
export const EXPIRING_WITHIN_DAYS = 7;

export type ExpiryStatus = 'unpublished' | 'current' | 'expiring' | 'expired';

/**
 * `expiring` once less than 7 days, or less than half of the list's own publication window,
 * is left, whichever is shorter: a one-day list is not "expiring" the moment it is published,
 * and a renewed list is never flagged.
 */
export function expiryOf(list: StoredImageList, now: Date): { status: ExpiryStatus; daysLeft?: number } {
  if (!list.expiresAt) return { status: 'unpublished' };
  const msLeft = list.expiresAt.getTime() - now.getTime();
  const daysLeft = Math.floor(msLeft / 86_400_000);
  if (msLeft <= 0) return { status: 'expired', daysLeft };
  const window = list.publishedAt ? list.expiresAt.getTime() - list.publishedAt.getTime() : Infinity;
  const flagWithinMs = Math.min(EXPIRING_WITHIN_DAYS * 86_400_000, window / 2);
  return { status: msLeft < flagWithinMs ? 'expiring' : 'current', daysLeft };
}

/**
 * The renewal schedule publishes a list again once half of its publication window (from
 * dc:date:created to dc:date:expires) has passed: with a schedule running every few hours,
 * that leaves subscribers days of margin for a list of weeks, and hours for a list of a day.
 * Never-published lists are not renewed: publishing one first is a person's decision.
 */
export function renewalDue(list: Pick<StoredImageList, 'publishedAt' | 'expiresAt'>, now: Date): boolean {
  if (!list.publishedAt || !list.expiresAt) return false;
  const halfway = (list.publishedAt.getTime() + list.expiresAt.getTime()) / 2;
  return now.getTime() >= halfway;
}
