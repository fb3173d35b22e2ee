import { defaultPayloadConverter, type Payload, type PayloadCodec } from '@temporalio/common';
import type { Client } from '@temporalio/client';
import proto from '@temporalio/proto';
import { searchAttributeKeys as keys } from '../../schemas/search-attributes.js';

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
}

export interface ReleaseFilter {
  cloud?: string;
  /** running, succeeded, failed, cancelled, waiting */
  status?: string;
  /** Image names starting with this. */
  image?: string;
  since?: Date;
  limit?: number;
}

/** One activity attempt in `job log`. */
export interface ActivityAttempt {
  activity: string;
  taskQueue: string;
  attempt: number;
  scheduledAt?: Date;
  outcome: 'completed' | 'failed' | 'timed out' | 'cancelled' | 'running';
  error?: string;
}

/** A running activity's last heartbeat, decoded (upload progress: percent, bytes). */
export interface PendingActivity {
  activity: string;
  attempt: number;
  heartbeat?: Record<string, unknown>;
  lastFailure?: string;
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

export async function listReleases(client: Client, filter: ReleaseFilter): Promise<ReleaseSummary[]> {
  const found: ReleaseSummary[] = [];
  for await (const w of client.workflow.list({ query: listQuery(filter) })) {
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
    });
    if (found.length >= (filter.limit ?? 50)) break;
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

function endOf(e: proto.temporal.api.history.v1.IHistoryEvent) {
  const failureText = (f?: proto.temporal.api.failure.v1.IFailure | null) => {
    let text = f?.message ?? '';
    for (let c = f?.cause; c; c = c.cause) text = c.message || text;
    return text;
  };
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

function timeOf(t: proto.google.protobuf.ITimestamp | null | undefined): Date | undefined {
  return t?.seconds == null ? undefined : new Date(Number(t.seconds) * 1000 + Math.floor((t.nanos ?? 0) / 1e6));
}

/** The activities running now, with their last heartbeat decoded (the codec when payloads are encrypted). */
export async function pendingActivities(client: Client, releaseId: string, codec?: PayloadCodec): Promise<PendingActivity[]> {
  const { raw } = await client.workflow.getHandle(releaseId).describe();
  return Promise.all(
    (raw.pendingActivities ?? []).map(async (p) => {
      const payloads = (p.heartbeatDetails?.payloads ?? []) as Payload[];
      const decoded = codec ? await codec.decode(payloads) : payloads;
      const heartbeat = decoded[0] ? (defaultPayloadConverter.fromPayload(decoded[0]) as Record<string, unknown>) : undefined;
      return {
        activity: p.activityType?.name ?? '?',
        attempt: p.attempt ?? 1,
        ...(heartbeat && { heartbeat }),
        ...(p.lastFailure?.message && { lastFailure: p.lastFailure.message }),
      };
    }),
  );
}
