import type { OperationState, SimplePollerLike } from '@azure/core-lro';
import { activitySignal, heartbeatIfInActivity } from '../common/activity-heartbeat.js';
import { arm, isArmNotFound, classifyArmError } from './arm-errors.js';

export interface LroSettings {
  /** Between polls of a long-running operation when Azure sends no Retry-After. */
  pollMs: number;
}

type Poller<T> = SimplePollerLike<OperationState<T>, T>;

/**
 * Runs a long-running ARM operation to its end the way the SDK polls it (Azure-AsyncOperation
 * or Location, honouring Retry-After), heartbeating on every poll so the activity is seen
 * alive and receives cancellation, which stops the polling (not Azure's operation).
 */
export function untilDone<T>(action: string, begin: () => Promise<Poller<T>>): Promise<T> {
  return arm(action, () => pollToEnd(action, begin));
}

async function pollToEnd<T>(action: string, begin: () => Promise<Poller<T>>): Promise<T> {
  const poller = await begin();
  poller.onProgress((state) => heartbeatIfInActivity({ waitingFor: action, status: state.status }));
  return poller.pollUntilDone({ abortSignal: activitySignal() });
}

/** A delete that finds nothing to delete is done (ARM answers 204, or 404 for a missing parent). */
export async function deleted(action: string, begin: () => Promise<Poller<void>>): Promise<void> {
  try {
    await pollToEnd(action, begin);
  } catch (error) {
    if (!isArmNotFound(error)) throw classifyArmError(error, action);
  }
}
