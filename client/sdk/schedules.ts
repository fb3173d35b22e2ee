import { ScheduleNotFoundError, ScheduleOverlapPolicy, type Client } from '@temporalio/client';
import { retirementPolicySchema, type RetirementPolicy } from '../../schemas/retirement-policy.js';
import { jsonPath } from '../../schemas/job/issues.js';
import { queueName, WORKFLOWS_QUEUE_SUFFIX } from '../../schemas/steps.js';
import type { deprecateImages } from '../../workflows/deprecate-images.js';
import type { RetirementResult } from '../../workflows/deprecate-images.js';
import type { BuildWatchResult, releaseNewBuilds } from '../../workflows/release-new-builds.js';
import type { ImageListRenewalResult } from '../../workflows/renew-image-lists.js';
import type { ReleaseJob } from '../../schemas/job/index.js';
import { jobAccounts, releaseStartMetadata } from './start-metadata.js';

/** A schedule as `schedule list` shows it: a retirement policy, or a `utctime: always` build watch. */
export interface RetirementSchedule {
  scheduleId: string;
  kind: 'deprecate' | 'watch' | 'imagelist-renewal';
  /** kind deprecate */
  policy: RetirementPolicy;
  /** kind watch: the job released for every new build */
  job?: Record<string, unknown>;
  every: string;
  paused: boolean;
  note?: string;
  nextRunAt?: Date;
  lastRunAt?: Date;
  /** The workflow id of the newest run the schedule started. */
  lastRunId?: string;
}

const SCHEDULE_PREFIX = 'deprecate-';
const WATCH_PREFIX = 'watch-';
/**
 * The memo key every schedule Imagecast creates carries (its kind), so `list` finds them
 * whatever their id. Schedules made before it are found by the default id prefixes.
 */
export const SCHEDULE_KIND_MEMO = 'imagecastSchedule';
const EVERY = /^\d+(s|m|h|d)$/;

export class InvalidScheduleError extends Error {
  override name = 'InvalidScheduleError';
}

/**
 * Temporal Schedules that run `deprecateImages` for one image line and account: overlap
 * policy SKIP (a slow run is never doubled), every change visible in the Web UI's Schedules.
 */
export class RetirementSchedules {
  constructor(
    private readonly temporal: Client,
    private readonly queuePrefix: string,
  ) {}

  async create(policyInput: unknown, options: { every: string; scheduleId?: string; paused?: boolean }): Promise<RetirementSchedule> {
    const parsed = retirementPolicySchema.safeParse(policyInput);
    if (!parsed.success) {
      const problems = parsed.error.issues.map((i) => `${jsonPath(i.path)}: ${i.message}`);
      throw new InvalidScheduleError(`invalid retirement policy:\n${problems.join('\n')}`);
    }
    if (!EVERY.test(options.every)) throw new InvalidScheduleError(`--every: "${options.every}" is not an interval such as 30m, 12h or 1d`);
    const policy = parsed.data;
    const scheduleId = options.scheduleId ?? defaultScheduleId(policy);
    await this.temporal.schedule.create({
      scheduleId,
      spec: { intervals: [{ every: options.every as `${number}d` }] },
      action: {
        type: 'startWorkflow',
        workflowType: 'deprecateImages' as unknown as typeof deprecateImages,
        args: [policy],
        taskQueue: queueName(this.queuePrefix, WORKFLOWS_QUEUE_SUFFIX),
        workflowId: scheduleId,
        staticSummary: `retire old images of ${policy.image_line} · ${policy.cloud}/${policy.account} · keep ${policy.keep}${policy.dry_run ? ' · dry run' : ''}`,
      },
      memo: { [SCHEDULE_KIND_MEMO]: 'deprecate' },
      policies: { overlap: ScheduleOverlapPolicy.SKIP, catchupWindow: '1h' },
      state: { paused: options.paused ?? false, note: `imagecast: retire ${policy.image_line} in ${policy.cloud}/${policy.account}` },
    });
    return this.describe(scheduleId);
  }

  /**
   * `utctime: always`: a schedule that polls the job's download_url every `every` and releases
   * each new build (a checksum the catalog has not seen for the line and account) that meets
   * the job's conditions (workflow `releaseNewBuilds`).
   */
  async watchBuilds(job: ReleaseJob, options: { every: string; scheduleId?: string }): Promise<RetirementSchedule> {
    if (!EVERY.test(options.every)) throw new InvalidScheduleError(`--poll-every: "${options.every}" is not an interval such as 30m, 12h or 1d`);
    const account = 'cloud_account' in job && job.cloud_account ? String(job.cloud_account) : 'default';
    const line = job.cloud_image_name.replace(/[{}]/g, '').replace(/[^A-Za-z0-9._-]+/g, '_');
    const scheduleId = options.scheduleId ?? `${WATCH_PREFIX}${job.cloud}-${account}-${line}`;
    await this.temporal.schedule.create({
      scheduleId,
      spec: { intervals: [{ every: options.every as `${number}h` }] },
      action: {
        type: 'startWorkflow',
        workflowType: 'releaseNewBuilds' as unknown as typeof releaseNewBuilds,
        args: [job as unknown as Record<string, unknown>],
        taskQueue: queueName(this.queuePrefix, WORKFLOWS_QUEUE_SUFFIX),
        workflowId: scheduleId,
        staticSummary: `release every new build of ${job.cloud_image_name} · ${job.cloud}/${jobAccounts(job) || '?'} · polls every ${options.every}`,
        staticDetails: releaseStartMetadata(job, '{date}').staticDetails,
      },
      memo: { [SCHEDULE_KIND_MEMO]: 'watch' },
      policies: { overlap: ScheduleOverlapPolicy.SKIP, catchupWindow: '1h' },
      state: { note: `imagecast: release every new build of ${job.cloud_image_name}` },
    });
    return this.describe(scheduleId);
  }

  async describe(scheduleId: string): Promise<RetirementSchedule> {
    const d = await this.temporal.schedule.getHandle(scheduleId).describe();
    const action = d.action as { args?: unknown[]; workflowType?: string };
    const watch = action.workflowType === 'releaseNewBuilds';
    const renewal = action.workflowType === 'renewImageLists';
    const interval = d.spec.intervals?.[0];
    const last = d.info.recentActions.at(-1);
    return {
      scheduleId,
      kind: renewal ? 'imagelist-renewal' : watch ? 'watch' : 'deprecate',
      policy: (watch || renewal ? undefined : action.args?.[0]) as RetirementPolicy,
      ...(watch && { job: action.args?.[0] as Record<string, unknown> }),
      every: interval ? formatMs(Number(interval.every)) : '?',
      paused: d.state.paused,
      ...(d.state.note && { note: d.state.note }),
      ...(d.info.nextActionTimes[0] && { nextRunAt: d.info.nextActionTimes[0] }),
      ...(last && { lastRunAt: last.takenAt, lastRunId: last.action.workflow.workflowId }),
    };
  }

  async list(): Promise<RetirementSchedule[]> {
    const all: RetirementSchedule[] = [];
    for await (const s of this.temporal.schedule.list()) {
      const ours = s.memo?.[SCHEDULE_KIND_MEMO] !== undefined || s.scheduleId.startsWith(SCHEDULE_PREFIX) || s.scheduleId.startsWith(WATCH_PREFIX);
      if (ours) all.push(await this.describe(s.scheduleId));
    }
    return all.sort((a, b) => a.scheduleId.localeCompare(b.scheduleId));
  }

  pause(scheduleId: string, note = 'paused with imagecast'): Promise<void> {
    return this.handle(scheduleId, (h) => h.pause(note));
  }

  resume(scheduleId: string): Promise<void> {
    return this.handle(scheduleId, (h) => h.unpause('resumed with imagecast'));
  }

  /** Runs it now (overlap policy still applies) and returns the run's result once it ends. */
  async trigger<T extends RetirementResult | BuildWatchResult | ImageListRenewalResult = RetirementResult>(scheduleId: string): Promise<T> {
    const before = (await this.describe(scheduleId)).lastRunAt?.getTime() ?? 0;
    await this.handle(scheduleId, (h) => h.trigger());
    for (let i = 0; ; i++) {
      const d = await this.temporal.schedule.getHandle(scheduleId).describe();
      const last = d.info.recentActions.at(-1);
      if (last && last.takenAt.getTime() > before) {
        const run = last.action.workflow;
        return this.temporal.workflow.getHandle(run.workflowId, run.firstExecutionRunId).result() as Promise<T>;
      }
      if (i > 300) throw new Error(`schedule ${scheduleId} did not start a run within a minute`);
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }

  delete(scheduleId: string): Promise<void> {
    return this.handle(scheduleId, (h) => h.delete());
  }

  private async handle(scheduleId: string, act: (h: ReturnType<Client['schedule']['getHandle']>) => Promise<void>): Promise<void> {
    try {
      await act(this.temporal.schedule.getHandle(scheduleId));
    } catch (error) {
      if (error instanceof ScheduleNotFoundError) throw new InvalidScheduleError(`no schedule ${scheduleId} (imagecast schedule list)`);
      throw error;
    }
  }
}

export function defaultScheduleId(policy: RetirementPolicy): string {
  const line = policy.image_line.replace(/[{}]/g, '').replace(/[^A-Za-z0-9._-]+/g, '_');
  return `${SCHEDULE_PREFIX}${policy.cloud}-${policy.account}-${line}`;
}

function formatMs(ms: number): string {
  for (const [unit, size] of [['d', 86_400_000], ['h', 3_600_000], ['m', 60_000]] as const) {
    if (ms % size === 0) return `${ms / size}${unit}`;
  }
  return `${ms / 1000}s`;
}
