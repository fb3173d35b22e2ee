import { ActivityCancellationType, proxyActivities, type ActivityOptions } from '@temporalio/workflow';
import type { CloudActivities } from '../activities/cloud-activities.js';
import type { ReleaseActivities } from '../activities/common/release-activities.js';
import type { ReleaseNotifier } from '../activities/common/notify/notifier.js';

/** Transient cloud and network trouble: back off, but give up in time for a person to look. */
const cloudRetry = {
  initialInterval: '2s',
  backoffCoefficient: 2,
  maximumInterval: '2m',
  maximumAttempts: 10,
} as const;

/** Validation and catalog calls: quick, and a failure is rarely fixed by waiting long. */
const quickCall: ActivityOptions = {
  startToCloseTimeout: '1m',
  retry: { ...cloudRetry, maximumAttempts: 5 },
};

/** Resolving the source may wait up to `conditions_wait_time` for a build that qualifies. */
function sourceResolution(conditionsWaitSeconds: number): ActivityOptions {
  return {
    startToCloseTimeout: `${conditionsWaitSeconds + 600}s`,
    heartbeatTimeout: '2m',
    retry: cloudRetry,
  };
}

/**
 * Streaming many GiB: long overall, but a silent worker (killed, partitioned) is noticed
 * within the heartbeat timeout and the retry resumes from the last heartbeat. Cancellation
 * waits for the upload to remove what it wrote, so the saga finds nothing half-written.
 */
const longUpload: ActivityOptions = {
  startToCloseTimeout: '12h',
  heartbeatTimeout: '30s',
  cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
  retry: { ...cloudRetry, maximumAttempts: 20 },
};

/**
 * Register, copy, share, deprecate: cloud calls that may wait on the cloud for many minutes
 * (an AMI copy). They heartbeat while they wait, so a dead worker is noticed in minutes,
 * not at the end of the two hours.
 */
const cloudCall: ActivityOptions = {
  startToCloseTimeout: '2h',
  heartbeatTimeout: '2m',
  retry: cloudRetry,
};

/**
 * Copies to other regions (an AMI copy, a gallery replication): the cloud may take hours,
 * and a clock alone must not fail them. Each attempt waits up to 6 h, heartbeating on every
 * poll (a dead worker is still noticed within 2 min); an attempt that reaches its limit is
 * retried, and the retry adopts the copy the cloud is still making (found by the run's token
 * and the image's name) instead of starting another. After 24 h in all the region blocks
 * the release (docs/operations.md, "How long a step may wait").
 */
const longCloudWait: ActivityOptions = {
  startToCloseTimeout: '6h',
  scheduleToCloseTimeout: '24h',
  heartbeatTimeout: '2m',
  retry: cloudRetry,
};

/**
 * The end-of-release notification: a few tries over a few minutes (an SMTP server or a
 * webhook receiver briefly down), never long enough to hold a finished release open.
 */
const notification: ActivityOptions = {
  startToCloseTimeout: '2m',
  retry: { initialInterval: '10s', backoffCoefficient: 2, maximumAttempts: 5, nonRetryableErrorTypes: ['NotificationRefused'] },
};

export function notifyActivities(workflowsQueue: string) {
  return proxyActivities<ReleaseNotifier>({ ...notification, taskQueue: workflowsQueue, summary: 'notify: the release ended' });
}

/**
 * The one-line summary the Web UI's timeline and pending-activities list show for a call
 * (`copy to eu-west-1` reads better than `replicateImage`). Options only: not replayed.
 */
function summarized(summary: string | undefined): Pick<ActivityOptions, 'summary'> {
  return summary === undefined ? {} : { summary };
}

/**
 * The test step: boot, SSH, tests (each up to its own timeout, heartbeating between them).
 * A worker that dies mid-test is noticed within the heartbeat timeout and the retry starts a
 * new instance (the old one is terminated by the retry's cleanup or the saga).
 */
const imageTest: ActivityOptions = {
  startToCloseTimeout: '2h',
  heartbeatTimeout: '10m',
  retry: { ...cloudRetry, maximumAttempts: 3 },
};

export function releaseActivities(workflowsQueue: string, conditionsWaitSeconds = 0, summary?: string) {
  return {
    quick: proxyActivities<ReleaseActivities>({ ...quickCall, taskQueue: workflowsQueue, ...summarized(summary) }),
    source: proxyActivities<ReleaseActivities>({
      ...sourceResolution(conditionsWaitSeconds),
      taskQueue: workflowsQueue,
      ...summarized(summary),
    }),
  };
}

export function cloudActivities(cloudQueue: string, summary?: string) {
  return {
    upload: proxyActivities<CloudActivities>({ ...longUpload, taskQueue: cloudQueue, ...summarized(summary) }),
    cloud: proxyActivities<CloudActivities>({ ...cloudCall, taskQueue: cloudQueue, ...summarized(summary) }),
    wait: proxyActivities<CloudActivities>({ ...longCloudWait, taskQueue: cloudQueue, ...summarized(summary) }),
    test: proxyActivities<CloudActivities>({ ...imageTest, taskQueue: cloudQueue, ...summarized(summary) }),
  };
}
