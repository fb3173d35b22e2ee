import { randomUUID } from 'node:crypto';
import { ScheduleAlreadyRunning, ScheduleOverlapPolicy, type Client } from '@temporalio/client';
import { queueName, WORKFLOWS_QUEUE_SUFFIX } from '../../schemas/steps.js';
import type { ImageListRenewalResult, renewImageLists } from '../../workflows/renew-image-lists.js';
import {
  InvalidScheduleError,
  SCHEDULE_KIND_MEMO,
  type RetirementSchedules,
  type RetirementSchedule,
} from './schedules.js';

/** The one schedule that renews every published list (`imagecast imagelist schedule`). */
export const IMAGELIST_RENEWAL_SCHEDULE_ID = 'imagelist-renewal';
/** How often it looks for lists past half their lifetime: a one-day list is renewed within 18 hours. */
export const DEFAULT_RENEWAL_EVERY = '6h';
const EVERY = /^\d+(m|h)$/;

/**
 * What a renewal interval must be, when `every` is not one (undefined when it is): minutes or
 * hours from 1m to 12h, so a one-day list (the shortest) is looked at before it expires. The
 * CLI checks `--every` with it before it connects anywhere.
 */
export function renewalIntervalProblem(every: string): string | undefined {
  const amount = Number(every.slice(0, -1));
  if (EVERY.test(every) && amount >= 1 && !(every.endsWith('h') && amount > 12)) return undefined;
  return 'expected an interval from 1m to 12h, such as 30m or 6h';
}

/**
 * Renewal of the signed image lists on the workers (workflow `renewImageLists`): now, or by
 * a Temporal Schedule, overlap policy SKIP, shown with `imagecast schedule list`.
 */
export class ImageListRenewal {
  constructor(
    private readonly temporal: Client,
    private readonly queuePrefix: string,
    private readonly schedules: RetirementSchedules,
  ) {}

  /** Creates the schedule, or sets the interval of the one there is (its paused state is kept). */
  async keepSchedule(options: { every?: string } = {}): Promise<RetirementSchedule & { created: boolean }> {
    const every = options.every ?? DEFAULT_RENEWAL_EVERY;
    if (renewalIntervalProblem(every))
      throw new InvalidScheduleError(
        `--every: "${every}" is not an interval from 1m to 12h, such as 30m or 6h`,
      );
    const spec = { intervals: [{ every: every as `${number}h` }] };
    let created = true;
    try {
      await this.temporal.schedule.create({
        scheduleId: IMAGELIST_RENEWAL_SCHEDULE_ID,
        spec,
        action: {
          type: 'startWorkflow',
          workflowType: 'renewImageLists' as unknown as typeof renewImageLists,
          args: [],
          taskQueue: queueName(this.queuePrefix, WORKFLOWS_QUEUE_SUFFIX),
          workflowId: IMAGELIST_RENEWAL_SCHEDULE_ID,
          staticSummary: `renew the signed image lists past half their lifetime · every ${every}`,
        },
        memo: { [SCHEDULE_KIND_MEMO]: 'imagelist-renewal' },
        policies: { overlap: ScheduleOverlapPolicy.SKIP, catchupWindow: '1h' },
        state: { note: 'imagecast: renew signed image lists before they expire' },
      });
    } catch (error) {
      if (!(error instanceof ScheduleAlreadyRunning)) throw error;
      created = false;
      await this.temporal.schedule
        .getHandle(IMAGELIST_RENEWAL_SCHEDULE_ID)
        .update((previous) => ({ ...previous, spec }));
    }
    return { ...(await this.schedules.describe(IMAGELIST_RENEWAL_SCHEDULE_ID)), created };
  }

  /** One renewal run now, on the workers, whatever the schedule; resolves with what it did. */
  renewNow(): Promise<ImageListRenewalResult> {
    return this.temporal.workflow.execute<typeof renewImageLists>('renewImageLists', {
      workflowId: `imagelist-renew-${randomUUID()}`,
      taskQueue: queueName(this.queuePrefix, WORKFLOWS_QUEUE_SUFFIX),
      args: [],
      // No worker on the workflows queue would make it wait for ever.
      workflowExecutionTimeout: 15 * 60_000,
      staticSummary: 'renew the signed image lists past half their lifetime (imagecast imagelist renew)',
    });
  }
}
