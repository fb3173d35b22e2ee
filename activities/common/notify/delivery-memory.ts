import { createHash } from 'node:crypto';
import { Context } from '@temporalio/activity';
import type { ApplicationFailure } from '@temporalio/common';
import { notificationRefused, notificationUnavailable } from './failures.js';

/** What one channel ended with, for good: no retry of the activity tries it again. */
export type ChannelOutcome =
  | { kind: 'email'; accepted: string[]; rejected: string[] }
  | { kind: 'webhook'; label: string }
  | { kind: 'refused'; message: string };

/**
 * The channels of one notification that are done, by channel key. It travels in the
 * activity's heartbeat details, so a retry (after a webhook answered 503, say) sends only
 * what has not gone out yet: nobody gets the same email twice because a webhook was down.
 */
export interface DeliveryMemory {
  done: Record<string, ChannelOutcome>;
}

/** A channel's key in the memory. Webhook URLs often hold a credential, so only their hash is kept. */
export function channelKey(channel: { kind: 'email' } | { kind: 'webhook'; url: string }): string {
  if (channel.kind === 'email') return 'email';
  return `webhook:${createHash('sha256').update(channel.url).digest('hex').slice(0, 16)}`;
}

/** The previous attempt's memory; empty on the first attempt and outside an activity (unit tests, scripts). */
export function recallDeliveries(): DeliveryMemory {
  const details = activityContext()?.info.heartbeatDetails as Partial<DeliveryMemory> | undefined;
  return { done: { ...(details?.done ?? {}) } };
}

/** Records the memory as the activity's heartbeat; Temporal hands it to the next attempt. */
export function rememberDeliveries(memory: DeliveryMemory): void {
  activityContext()?.heartbeat({ done: { ...memory.done } });
}

function activityContext(): Context | undefined {
  try {
    return Context.current();
  } catch {
    return undefined; // not running as an activity: nothing to resume, nowhere to remember
  }
}

/** One channel of a notification: its key in the memory and how to send on it. */
export interface NotifyChannel {
  key: string;
  send(): Promise<ChannelOutcome>;
}

/**
 * Sends on every channel not yet done, all at once; one that fails never holds back the
 * others. Returns every outcome (this attempt's and earlier ones') when none is owed; else
 * throws after the others are done, naming what failed and what went out: retryable if any
 * failure is (NotificationUnavailable), NotificationRefused if none can succeed by retrying.
 */
export async function deliverOnce(channels: NotifyChannel[]): Promise<ChannelOutcome[]> {
  const memory = recallDeliveries();
  const transient: string[] = [];
  await Promise.all(
    channels.map(async ({ key, send }) => {
      if (memory.done[key]) return; // an earlier attempt delivered it, or was told no for good
      try {
        memory.done[key] = await send();
      } catch (error) {
        const failure = asFailure(error);
        if (!failure.nonRetryable) return void transient.push(failure.message);
        memory.done[key] = { kind: 'refused', message: failure.message };
      }
      rememberDeliveries(memory);
    }),
  );
  const outcomes = Object.values(memory.done);
  const refused = outcomes.flatMap((o) => (o.kind === 'refused' ? [o.message] : []));
  if (transient.length === 0 && refused.length === 0) return outcomes;
  const sent = outcomes.flatMap((o) =>
    o.kind === 'email'
      ? [`email to ${o.accepted.join(', ')}`]
      : o.kind === 'webhook'
        ? [`webhook ${o.label}`]
        : [],
  );
  const summary =
    [...transient, ...refused].join('; ') + (sent.length ? ` (already sent: ${sent.join('; ')})` : '');
  throw transient.length ? notificationUnavailable(summary) : notificationRefused(summary);
}

/** Our senders throw ApplicationFailures; anything else is unexpected and counts as transient, bounded by the retry policy. */
function asFailure(error: unknown): ApplicationFailure {
  if (error && typeof error === 'object' && 'nonRetryable' in error) return error as ApplicationFailure;
  return notificationUnavailable(error instanceof Error ? error.message : String(error));
}
