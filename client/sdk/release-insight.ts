import type { Client } from '@temporalio/client';
import proto from '@temporalio/proto';
import { searchAttributeKeys as keys } from '../../schemas/search-attributes.js';
import { START_AT_MEMO } from './start-metadata.js';
import { failureMessage, timeOf, type PendingActivity } from './release-health.js';

const { temporal } = proto;
const EventType = temporal.api.enums.v1.EventType;

/** One release in `job list`, from its search attributes (no history is read). */
export interface ReleaseSummary {
  releaseId: string;
  runId: string;
  workflowStatus: string;
  state?: string;
  step?: string;
  cloud?: string;
  account?: string;
  imageName?: string;
  startedAt: Date;
  closedAt?: Date;
  /** A release waiting for its `utctime`: when it starts. */
  startAt?: string;
}

export interface ReleaseFilter {
  cloud?: string;
  /** running, waiting, blocked, succeeded, failed, cancelled */
  status?: string;
  /** Image names starting with this. */
  image?: string;
  since?: Date;
  limit?: number;
}

/** One activity attempt in `job log`. */
export interface ActivityAttempt {
  activityId: string;
  activity: string;
  taskQueue: string;
  /** For a running activity: the live attempt (describe()), not the history's 1. */
  attempt: number;
  /** Running only: the retry policy's limit (0: unlimited). */
  maximumAttempts?: number;
  scheduledAt?: Date;
  outcome: 'completed' | 'failed' | 'timed out' | 'cancelled' | 'running' | 'retrying';
  error?: string;
  /** Running only: when the next attempt starts, while it backs off. */
  nextAttemptAt?: Date;
}

/** The visibility query for a filter; values are quoted for Temporal's SQL-like list filter. */
export function listQuery(filter: ReleaseFilter): string {
  const quote = (v: string) => `'${v.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
  const terms = [`WorkflowType = 'releaseImage'`];
  if (filter.cloud) terms.push(`${keys.cloud.name} = ${quote(filter.cloud)}`);
  if (filter.status) terms.push(`${keys.releaseStatus.name} = ${quote(filter.status)}`);
  if (filter.image) terms.push(`${keys.imageName.name} STARTS_WITH ${quote(filter.image)}`);
  if (filter.since) terms.push(`StartTime >= ${quote(filter.since.toISOString())}`);
  return terms.join(' AND ');
}

/**
 * Newest first. Elasticsearch visibility sorts by StartTime itself; SQL visibility (the dev
 * server, PostgreSQL) refuses ORDER BY and lists running releases first, then by close time,
 * so there the matching releases are read and sorted here (narrow with `since` when many).
 */
export async function listReleases(client: Client, filter: ReleaseFilter): Promise<ReleaseSummary[]> {
  const limit = filter.limit ?? 50;
  try {
    return await readReleases(client, `${listQuery(filter)} ORDER BY StartTime DESC`, limit);
  } catch (error) {
    if (!/order by/i.test(String((error as Error).cause ?? '') + (error as Error).message)) throw error;
  }
  const all = await readReleases(client, listQuery(filter), Infinity);
  return all.sort((a, b) => b.startedAt.getTime() - a.startedAt.getTime()).slice(0, limit);
}

async function readReleases(client: Client, query: string, limit: number): Promise<ReleaseSummary[]> {
  const found: ReleaseSummary[] = [];
  for await (const w of client.workflow.list({ query })) {
    const attr = (key: (typeof keys)[keyof typeof keys]) => {
      const value = w.typedSearchAttributes.get(key);
      return value === undefined ? undefined : String(value);
    };
    found.push({
      releaseId: w.workflowId,
      runId: w.runId,
      workflowStatus: w.status.name,
      state: attr(keys.releaseStatus),
      step: attr(keys.releaseStep),
      cloud: attr(keys.cloud),
      account: attr(keys.account),
      imageName: attr(keys.imageName),
      startedAt: w.startTime,
      ...(w.closeTime && { closedAt: w.closeTime }),
      ...(typeof w.memo?.[START_AT_MEMO] === 'string' && { startAt: w.memo[START_AT_MEMO] }),
    });
    if (found.length >= limit) break;
  }
  return found;
}

/** Every activity attempt of a release's latest run with its outcome and error, oldest first. */
export async function releaseLog(client: Client, releaseId: string): Promise<ActivityAttempt[]> {
  const history = await client.workflow.getHandle(releaseId).fetchHistory();
  const byScheduled = new Map<string, ActivityAttempt>();
  const attempts: ActivityAttempt[] = [];
  for (const e of history.events ?? []) {
    const id = String(e.eventId);
    if (e.eventType === EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED) {
      const a = e.activityTaskScheduledEventAttributes!;
      const entry: ActivityAttempt = {
        activityId: a.activityId ?? '?',
        activity: a.activityType?.name ?? '?',
        taskQueue: a.taskQueue?.name ?? '?',
        attempt: 1,
        scheduledAt: timeOf(e.eventTime),
        outcome: 'running',
      };
      byScheduled.set(id, entry);
      attempts.push(entry);
    }
    const ended = endOf(e);
    if (ended) {
      const entry = byScheduled.get(String(ended.scheduledEventId));
      if (entry) Object.assign(entry, { outcome: ended.outcome, ...(ended.error && { error: ended.error }) });
    }
    if (e.eventType === EventType.EVENT_TYPE_ACTIVITY_TASK_STARTED) {
      const a = e.activityTaskStartedEventAttributes!;
      const entry = byScheduled.get(String(a.scheduledEventId));
      if (entry) {
        entry.attempt = a.attempt ?? entry.attempt;
        if (a.lastFailure?.message) entry.error = `earlier attempts: ${a.lastFailure.message}`;
      }
    }
  }
  return attempts;
}

/**
 * The history records an attempt only once it ends: a download failing its 10th try still
 * reads "attempt 1 running" there. The pending activities know the live attempt and failure.
 */
export function withLiveAttempts(log: ActivityAttempt[], pending: PendingActivity[]): ActivityAttempt[] {
  return log.map((entry) => {
    const live = entry.outcome === 'running' ? pending.find((p) => p.activityId === entry.activityId) : undefined;
    if (!live) return entry;
    return {
      ...entry,
      attempt: live.attempt,
      maximumAttempts: live.maximumAttempts,
      outcome: live.lastFailure && live.state === 'scheduled' ? 'retrying' : 'running',
      ...(live.lastFailure && { error: `attempt ${live.attempt - 1} failed: ${live.lastFailure}` }),
      ...(live.nextAttemptAt && { nextAttemptAt: live.nextAttemptAt }),
    };
  });
}

function endOf(e: proto.temporal.api.history.v1.IHistoryEvent) {
  const failureText = (f?: proto.temporal.api.failure.v1.IFailure | null) => failureMessage(f) ?? '';
  if (e.activityTaskCompletedEventAttributes) return { scheduledEventId: e.activityTaskCompletedEventAttributes.scheduledEventId, outcome: 'completed' as const };
  if (e.activityTaskFailedEventAttributes) {
    const a = e.activityTaskFailedEventAttributes;
    return { scheduledEventId: a.scheduledEventId, outcome: 'failed' as const, error: failureText(a.failure) };
  }
  if (e.activityTaskTimedOutEventAttributes) {
    const a = e.activityTaskTimedOutEventAttributes;
    return { scheduledEventId: a.scheduledEventId, outcome: 'timed out' as const, error: failureText(a.failure) };
  }
  if (e.activityTaskCanceledEventAttributes) return { scheduledEventId: e.activityTaskCanceledEventAttributes.scheduledEventId, outcome: 'cancelled' as const };
  return undefined;
}
