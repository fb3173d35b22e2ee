import { Context } from '@temporalio/activity';

/**
 * Heartbeats when called inside an activity (so a long wait on the cloud shows the worker is
 * alive and receives cancellation) and does nothing elsewhere (a provider used by a bench).
 */
export function heartbeatIfInActivity(details?: unknown): void {
  let context: Context | undefined;
  try {
    context = Context.current();
  } catch {
    return;
  }
  context.heartbeat(details);
}

/** The activity's cancellation signal, when there is one. */
export function activitySignal(): AbortSignal | undefined {
  try {
    return Context.current().cancellationSignal;
  } catch {
    return undefined;
  }
}

/** The activity's attempt number (1 outside an activity): part of idempotency tokens that must differ per attempt. */
export function activityAttempt(): number {
  try {
    return Context.current().info.attempt;
  } catch {
    return 1;
  }
}
