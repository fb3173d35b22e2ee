import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type { ReleaseState, ReleaseStatus } from './release-status.js';
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

/** A person's decision on a blocked release: retry the blocked regions now, dropping those in `skip`. */
export interface ResumeDecision {
  skip?: string[];
  /** Who decided (the CLI sends the OS user); recorded in the step's detail. */
  by?: string;
}

/** A person's decision on a blocked release: remove what it made and fail (today's saga). */
export interface AbortDecision {
  by?: string;
}

/** What a decision's Update returns: the release's state once the decision was taken. */
export interface DecisionOutcome {
  state: ReleaseState;
  /** What the release does now, for people. */
  detail: string;
}

/** Updates: validated (a decision that does not fit the state is refused with the reason). */
export const resumeUpdate = defineUpdate<DecisionOutcome, [ResumeDecision]>('resume');
export const abortUpdate = defineUpdate<DecisionOutcome, [AbortDecision]>('abort');

/** The same decisions as Signals, for the Web UI's signal form; one that does not fit is logged and ignored. */
export const resumeSignal = defineSignal<[ResumeDecision]>('resume');
export const abortSignal = defineSignal<[AbortDecision]>('abort');
