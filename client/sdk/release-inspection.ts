/** `job status`'s view of a release: works when the workflow cannot answer (no worker). */
import type { Client, WorkflowExecutionDescription } from '@temporalio/client';
import type { PayloadCodec } from '@temporalio/common';
import type { ReleaseStatus } from '../../workflows/release-status.js';
import { statusQuery } from '../../workflows/queries.js';
import { searchAttributeKeys as keys } from '../../schemas/search-attributes.js';
import { pendingActivitiesOf, workerProblems, type PendingActivity } from './release-health.js';
import { releaseLog } from './release-insight.js';
import { START_AT_MEMO } from './start-metadata.js';
import { serverReason } from './errors.js';
import type { ReleaseInspection } from './types.js';

/**
 * Everything `job status` shows, even when no worker can answer the status query: what the
 * workflow last reported (search attributes), the live attempt and last failure of each
 * pending activity, and which queues have no worker.
 */
export async function inspectRelease(
  temporal: Client,
  description: WorkflowExecutionDescription,
  queuePrefix: string,
  codec?: PayloadCodec,
): Promise<ReleaseInspection> {
  const releaseId = description.workflowId;
  const attr = (key: (typeof keys)[keyof typeof keys]) => {
    const value = description.typedSearchAttributes.get(key);
    return value === undefined ? undefined : String(value);
  };
  const pending = await pendingActivitiesOf(description, codec);
  let status: ReleaseStatus | undefined;
  let statusProblem: string | undefined;
  if (description.status.name === 'RUNNING') {
    // A short deadline: a query waits for a worker to answer it, and there may be none.
    status = await temporal.connection
      .withDeadline(Date.now() + 10_000, () => temporal.workflow.getHandle(releaseId).query(statusQuery))
      .catch((error: unknown) => {
        statusProblem = `the release did not answer its status query: ${serverReason(error).reason}`;
        return undefined;
      });
  } else {
    status = description.memo?.status as ReleaseStatus | undefined;
    if (!status) statusProblem = `it ended (${description.status.name}) before it recorded a status`;
  }
  await fillTaskQueues(temporal, releaseId, pending);
  return {
    releaseId,
    workflowStatus: description.status.name,
    startedAt: description.startTime,
    ...(description.closeTime && { closedAt: description.closeTime }),
    ...(status && { status }),
    ...(statusProblem && { statusProblem }),
    reported: {
      state: attr(keys.releaseStatus),
      step: attr(keys.releaseStep),
      imageName: attr(keys.imageName),
      cloud: attr(keys.cloud),
      account: attr(keys.account),
    },
    ...(typeof description.memo?.[START_AT_MEMO] === 'string' && {
      startAt: description.memo[START_AT_MEMO],
    }),
    pendingActivities: pending,
    workerProblems: await workerProblems(temporal, description, pending, queuePrefix),
  };
}

/** Older servers leave the activity's options out of describe(): the history has each one's queue. */
export async function fillTaskQueues(temporal: Client, releaseId: string, pending: PendingActivity[]): Promise<void> {
  if (!pending.some((p) => !p.taskQueue)) return;
  const log = await releaseLog(temporal, releaseId).catch(() => []);
  const queues = new Map(log.map((a) => [a.activityId, a.taskQueue]));
  for (const p of pending) p.taskQueue ??= queues.get(p.activityId);
}
