/** The SDK's call and result types (ImagecastClient and ImagecastGateway share them). */
import type { ReleaseStatus } from '../../workflows/release-status.js';
import type { PendingActivity, WorkerProblem } from './release-health.js';

export interface StartedRelease {
  releaseId: string;
  runId: string;
}

export interface WaitOptions {
  /** Called whenever the step table changes. */
  onProgress?: (status: ReleaseStatus) => void;
  /** Called when a queue the release needs has no worker (again whenever that changes). */
  onWorkerProblem?: (problems: WorkerProblem[]) => void;
  pollIntervalMs?: number;
  /** Give up (WaitTimeoutError) after this long; the release goes on. Default: wait as long as it runs. */
  timeoutMs?: number;
}

/** What `job status` shows: the step table when the workflow answers, and why it may not move. */
export interface ReleaseInspection {
  releaseId: string;
  /** Temporal's view: RUNNING, COMPLETED, FAILED, CANCELLED, TERMINATED, TIMED_OUT, … */
  workflowStatus: string;
  startedAt: Date;
  closedAt?: Date;
  /** The step table; absent when the workflow could not answer (see statusProblem). */
  status?: ReleaseStatus;
  /** Why there is no live step table (no worker to answer the query, …). */
  statusProblem?: string;
  /** Search attributes: what the workflow last reported, readable without a worker. */
  reported: { state?: string; step?: string; imageName?: string; cloud?: string; account?: string };
  /** A future utctime the release waits for. */
  startAt?: string;
  pendingActivities: PendingActivity[];
  workerProblems: WorkerProblem[];
}

