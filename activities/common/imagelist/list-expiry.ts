// Whether a published list needs publishing again: subscribers refuse it once it expires,
// so a list is flagged a week before (vmcaster's default lifetime is four weeks).
import type { StoredImageList } from './list-document.js';

/** Days before dc:date:expires from which a list is flagged as expiring. */
export const EXPIRING_WITHIN_DAYS = 7;

export type ExpiryStatus = 'unpublished' | 'current' | 'expiring' | 'expired';

export function expiryOf(list: StoredImageList, now: Date): { status: ExpiryStatus; daysLeft?: number } {
  if (!list.expiresAt) return { status: 'unpublished' };
  const daysLeft = Math.floor((list.expiresAt.getTime() - now.getTime()) / 86_400_000);
  if (list.expiresAt <= now) return { status: 'expired', daysLeft };
  return { status: daysLeft < EXPIRING_WITHIN_DAYS ? 'expiring' : 'current', daysLeft };
}
