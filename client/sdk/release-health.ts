/**
 * Is a release making progress, and if not, why: the live attempt of each pending activity
 * with its last failure (the history shows an attempt only once it ends, so "attempt 1
 * running" can hide ten failed tries), and whether any worker polls the queues the release
 * waits on (without one it waits forever, silently).
 */
import type { Client, WorkflowExecutionDescription } from '@temporalio/client';
import { defaultPayloadConverter, type Payload, type PayloadCodec } from '@temporalio/common';
import proto from '@temporalio/proto';
import { queueName, WORKFLOWS_QUEUE_SUFFIX } from '../../schemas/steps.js';

const { temporal } = proto;
type Timestamp = proto.google.protobuf.ITimestamp | null | undefined;

/** A pending activity as describe() reports it: the attempt now, and why the last one failed. */
export interface PendingActivity {
  activityId: string;
  activity: string;
  /** scheduled (waiting for a worker or for its next attempt), started, cancel requested */
  state: string;
  attempt: number;
  /** 0: unlimited */
  maximumAttempts: number;
  taskQueue?: string;
  heartbeat?: Record<string, unknown>;
  lastFailure?: string;
  scheduledAt?: Date;
  lastStartedAt?: Date;
  nextAttemptAt?: Date;
  lastWorker?: string;
}

/** A queue the release needs that no worker polls (or none has lately), and what to run. */
export interface WorkerProblem {
  taskQueue: string;
  message: string;
}

/** Pollers that asked within this long are alive: a worker's long poll returns within about a minute. */
const POLLER_FRESH_MS = 2 * 60_000;

export function timeOf(t: Timestamp): Date | undefined {
  return t?.seconds == null ? undefined : new Date(Number(t.seconds) * 1000 + Math.floor((t.nanos ?? 0) / 1e6));
}

const STATE_NAMES: Record<number, string> = {
  [temporal.api.enums.v1.PendingActivityState.PENDING_ACTIVITY_STATE_SCHEDULED]: 'scheduled',
  [temporal.api.enums.v1.PendingActivityState.PENDING_ACTIVITY_STATE_STARTED]: 'started',
  [temporal.api.enums.v1.PendingActivityState.PENDING_ACTIVITY_STATE_CANCEL_REQUESTED]: 'cancel requested',
  [temporal.api.enums.v1.PendingActivityState.PENDING_ACTIVITY_STATE_PAUSED]: 'paused',
  [temporal.api.enums.v1.PendingActivityState.PENDING_ACTIVITY_STATE_PAUSE_REQUESTED]: 'pause requested',
};

/** The innermost message of a failure chain: "connect ECONNREFUSED 127.0.0.1:9", not "Activity task failed". */
export function failureMessage(f: proto.temporal.api.failure.v1.IFailure | null | undefined): string | undefined {
  let text = f?.message || undefined;
  for (let c = f?.cause; c; c = c.cause) text = c.message || text;
  return text;
}

/** The pending activities of a description, heartbeats decoded (with the codec when payloads are encrypted). */
export async function pendingActivitiesOf(description: WorkflowExecutionDescription, codec?: PayloadCodec): Promise<PendingActivity[]> {
  return Promise.all(
    (description.raw.pendingActivities ?? []).map(async (p) => {
      const payloads = (p.heartbeatDetails?.payloads ?? []) as Payload[];
      const decoded = codec ? await codec.decode(payloads) : payloads;
      const heartbeat = decoded[0] ? (defaultPayloadConverter.fromPayload(decoded[0]) as Record<string, unknown>) : undefined;
      const lastFailure = failureMessage(p.lastFailure);
      return {
        activityId: p.activityId ?? '?',
        activity: p.activityType?.name ?? '?',
        state: STATE_NAMES[p.state ?? 0] ?? 'unknown',
        attempt: p.attempt || 1,
        maximumAttempts: p.maximumAttempts ?? 0,
        ...(p.activityOptions?.taskQueue?.name && { taskQueue: p.activityOptions.taskQueue.name }),
        ...(heartbeat && { heartbeat }),
        ...(lastFailure && { lastFailure }),
        ...optionalDate('scheduledAt', p.scheduledTime),
        ...optionalDate('lastStartedAt', p.lastStartedTime),
        ...optionalDate('nextAttemptAt', p.nextAttemptScheduleTime),
        ...(p.lastWorkerIdentity && { lastWorker: p.lastWorkerIdentity }),
      };
    }),
  );
}

function optionalDate<K extends string>(key: K, t: Timestamp): Partial<Record<K, Date>> {
  const at = timeOf(t);
  return at ? ({ [key]: at } as Record<K, Date>) : {};
}

/** "attempt 3/10, last failure: connect ECONNREFUSED …, next attempt 12:00:04Z": one line for people. */
export function describeAttempt(p: PendingActivity): string {
  const parts = [`attempt ${p.attempt}${p.maximumAttempts ? `/${p.maximumAttempts}` : ''}`];
  if (p.lastFailure) parts.push(`last failure: ${p.lastFailure}`);
  if (p.nextAttemptAt) parts.push(`next attempt ${p.nextAttemptAt.toISOString()}`);
  else if (p.state === 'scheduled' && p.attempt > 1) parts.push('waiting for a worker to take the next attempt');
  return parts.join(', ');
}

/** Workers that polled the queue lately (identities); [] when none. */
export async function queuePollers(client: Client, taskQueue: string, kind: 'workflow' | 'activity'): Promise<string[]> {
  const response = await client.workflowService.describeTaskQueue({
    namespace: client.options.namespace,
    taskQueue: { name: taskQueue, kind: temporal.api.enums.v1.TaskQueueKind.TASK_QUEUE_KIND_NORMAL },
    taskQueueType:
      kind === 'workflow'
        ? temporal.api.enums.v1.TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW
        : temporal.api.enums.v1.TaskQueueType.TASK_QUEUE_TYPE_ACTIVITY,
  });
  const freshSince = Date.now() - POLLER_FRESH_MS;
  return (response.pollers ?? [])
    .filter((p) => (timeOf(p.lastAccessTime)?.getTime() ?? 0) >= freshSince)
    .map((p) => p.identity ?? '?');
}

/** The command that starts a worker for these queues (README, docs/operations.md). */
export function workerCommand(queues: string[], queuePrefix: string): string {
  const prefix = queuePrefix === 'imagecast-' ? '' : ` --queue-prefix ${queuePrefix}`;
  return `npm run worker -- --queues ${[...new Set(queues)].join(',')}${prefix}`;
}

/**
 * The queues a running release needs that no worker polls: its workflow queue (nothing
 * moves at all, queries fail), and the queue of every pending activity not yet taken (a
 * worker busy with other work stops polling, so a started activity is not a sign of trouble).
 */
export async function workerProblems(
  client: Client,
  description: WorkflowExecutionDescription,
  pending: PendingActivity[],
  queuePrefix: string,
): Promise<WorkerProblem[]> {
  if (description.status.name !== 'RUNNING') return [];
  const problems: WorkerProblem[] = [];
  const workflowQueue = description.taskQueue;
  const suffixOf = (queue: string) => (queue.startsWith(queuePrefix) ? queue.slice(queuePrefix.length) : queue);
  if ((await queuePollers(client, workflowQueue, 'workflow')).length === 0) {
    problems.push({
      taskQueue: workflowQueue,
      message: `no worker polls the workflow task queue ${workflowQueue}: the release cannot move (start one: ${workerCommand([WORKFLOWS_QUEUE_SUFFIX], queuePrefix)})`,
    });
  }
  const waiting = pending.filter((p) => p.state === 'scheduled' && p.taskQueue);
  for (const queue of new Set(waiting.map((p) => p.taskQueue!))) {
    if (queue === workflowQueue && problems.length) continue;
    if ((await queuePollers(client, queue, 'activity')).length > 0) continue;
    const activities = waiting.filter((p) => p.taskQueue === queue).map((p) => p.activity);
    problems.push({
      taskQueue: queue,
      message: `no worker has polled task queue ${queue} in the last ${POLLER_FRESH_MS / 60_000} minutes: ${activities.join(', ')} waits for one (start one: ${workerCommand([suffixOf(queue)], queuePrefix)})`,
    });
  }
  return problems;
}

/** The workflows queue of a prefix: where `job add` sends releases. */
export function workflowsQueue(queuePrefix: string): string {
  return queueName(queuePrefix, WORKFLOWS_QUEUE_SUFFIX);
}
