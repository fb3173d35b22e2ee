import { defineQuery, defineSignal } from '@temporalio/workflow';
import type { ReleaseStatus } from './release-status.js';
import type { ResolvedImageSource } from '../activities/provider.js';

/** Per-step state of a running release (the SDK, CLI and tests ask it). */
export const statusQuery = defineQuery<ReleaseStatus>('status');

/** The build a release chose (download step), once chosen: what `job retry` releases again. */
export const buildQuery = defineQuery<{ source: ResolvedImageSource; imageName: string } | undefined>('build');

/** What a worker tells a release when one attempt of its activity failed and will be retried. */
export interface AttemptFailed {
  activityType: string;
  attempt: number;
  maximumAttempts?: number;
  message: string;
}

/**
 * Sent by the worker (not by people): a retried failure is otherwise visible only in the
 * pending-activities list, so the step table, `job status` and the Web UI's details panel
 * would say "attempt 1" while the activity retries for minutes.
 */
export const attemptFailedSignal = defineSignal<[AttemptFailed]>('activityAttemptFailed');
