import { createHash } from 'node:crypto';
import { Context } from '@temporalio/activity';

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
