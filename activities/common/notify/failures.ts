import { ApplicationFailure } from '@temporalio/common';
import { retryable } from '../errors.js';

/**
 * Failure type for a notification a retry cannot deliver: a permanent (5xx) SMTP reply, a
 * 4xx webhook answer, email asked for with no SMTP server configured. Kept out of
 * NON_RETRYABLE_FAILURES in ../errors.ts because it is about telling people, not about the release.
 */
export const NOTIFICATION_REFUSED = 'NotificationRefused';

/** Failure type for a notification that may go through later: refused connection, timeout, 4xx SMTP reply, 5xx webhook answer. */
export const NOTIFICATION_UNAVAILABLE = 'NotificationUnavailable';

export function notificationRefused(message: string): ApplicationFailure {
  return ApplicationFailure.create({ type: NOTIFICATION_REFUSED, message, nonRetryable: true });
}

export function notificationUnavailable(message: string): ApplicationFailure {
  return retryable(NOTIFICATION_UNAVAILABLE, message);
}
