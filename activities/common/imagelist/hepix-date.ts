// HEPiX dates are Python's `%Y-%m-%dT%H:%M:%SZ`: vmcatcher parses them with strptime, which
// refuses the milliseconds JavaScript's toISOString() writes (research note, section 1.3).
import { HEPIX_DATE_PATTERN } from '../../../schemas/imagelist.js';

const DAY_MS = 86_400_000;

/** `2026-12-02T19:40:40Z`: the date in UTC to the second (milliseconds are dropped, not rounded). */
export function formatHepixDate(at: Date): string {
  if (Number.isNaN(at.getTime())) throw new RangeError('formatHepixDate: invalid date');
  return at.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** The date a HEPiX date string means, or undefined when it is not exactly that form. */
export function parseHepixDate(text: string): Date | undefined {
  if (!HEPIX_DATE_PATTERN.test(text)) return undefined;
  const at = new Date(text);
  return Number.isNaN(at.getTime()) || formatHepixDate(at) !== text ? undefined : at;
}

/** vmcaster's default list lifetime (`--lifetime-imagelist`), in days. */
export const DEFAULT_LIFETIME_DAYS = 28;

/**
 * created = now, expires = now + lifetime, but never after the signing certificate expires:
 * the signature stops verifying then, so a later date would only promise what cannot hold.
 */
export function listDates(
  now: Date,
  lifetimeDays: number,
  certificateNotAfter: Date,
): { created: string; expires: string; cappedAtCertificate: boolean } {
  const wanted = now.getTime() + lifetimeDays * DAY_MS;
  const expires = Math.min(wanted, certificateNotAfter.getTime());
  return {
    created: formatHepixDate(now),
    expires: formatHepixDate(new Date(expires)),
    cappedAtCertificate: expires < wanted,
  };
}
