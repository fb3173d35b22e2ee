import {
  ActivityFailure,
  ApplicationFailure,
  proxyActivities,
  setCurrentDetails,
  workflowInfo,
  type ActivityOptions,
} from '@temporalio/workflow';
import type { ImageListRenewalActivities, ListRenewal } from '../activities/common/imagelist/renew-lists.js';
import type { ListNotRenewed, NotRenewedNotified } from '../activities/common/notify/imagelist-renewal.js';

export interface ImageListRenewalResult {
  /** Lists published again: version and dates moved. */
  renewed: Array<Extract<ListRenewal, { renewed: true }> & { title: string }>;
  /** Due when the run began, but published by someone else (or deleted) before their turn. */
  skipped: Array<{ identifier: string; title: string; reason: string }>;
  /** Lists that could not be renewed, and why (every run); people are told once per list and reason (see notified). */
  notRenewed: ListNotRenewed[];
  notified?: NotRenewedNotified;
  /** The notification could not be sent: the run still reports notRenewed. */
  notifyError?: string;
}

/** Reading the stores: quick, and retried a few times if the database blinks. */
const storeCall: ActivityOptions = {
  startToCloseTimeout: '1m',
  retry: { initialInterval: '2s', backoffCoefficient: 2, maximumAttempts: 5 },
};

/**
 * Signing and uploading one list: an unreachable target gets three tries over about half a
 * minute, then the list is reported (the next scheduled run tries again, long before expiry).
 */
const listUpload: ActivityOptions = {
  startToCloseTimeout: '5m',
  retry: {
    initialInterval: '10s',
    backoffCoefficient: 2,
    maximumAttempts: 3,
    nonRetryableErrorTypes: ['ImageListNotRenewable'],
  },
};

/** As the release notification: a few tries over a few minutes. */
const notification: ActivityOptions = {
  startToCloseTimeout: '2m',
  retry: {
    initialInterval: '10s',
    backoffCoefficient: 2,
    maximumAttempts: 5,
    nonRetryableErrorTypes: ['NotificationRefused'],
  },
};

/**
 * One renewal run (the `imagelist-renewal` schedule, or `imagecast imagelist renew`): every
 * published list past half its lifetime is signed and uploaded again, each on its own, so a
 * list that cannot be renewed (certificate expired, target unreachable) holds back no other.
 * Those are named, with the reason, in the result of every run, and in one notification for
 * the lists people have not been told about with that reason (the notify activity keeps track).
 */
export async function renewImageLists(): Promise<ImageListRenewalResult> {
  const { taskQueue, workflowId } = workflowInfo();
  const stores = proxyActivities<ImageListRenewalActivities>({ ...storeCall, taskQueue });
  const upload = proxyActivities<ImageListRenewalActivities>({ ...listUpload, taskQueue });
  const notify = proxyActivities<ImageListRenewalActivities>({
    ...notification,
    taskQueue,
    summary: 'notify: image lists not renewed',
  });

  const due = await stores.findImageListsToRenew();
  const result: ImageListRenewalResult = { renewed: [], skipped: [], notRenewed: [] };
  await Promise.all(
    due.map(async (list) => {
      try {
        const outcome = await upload.renewImageList({ identifier: list.identifier });
        if (outcome.renewed) result.renewed.push({ ...outcome, title: list.title });
        else result.skipped.push({ identifier: list.identifier, title: list.title, reason: outcome.skipped });
      } catch (error) {
        result.notRenewed.push({ ...list, reason: failureReason(error) });
      }
    }),
  );
  if (result.notRenewed.length > 0) {
    try {
      result.notified = await notify.notifyImageListsNotRenewed({
        runId: workflowId,
        lists: result.notRenewed,
      });
    } catch (error) {
      result.notifyError = failureReason(error);
    }
  }
  setCurrentDetails(describeRun(due.length, result));
  return result;
}

function failureReason(error: unknown): string {
  const cause = error instanceof ActivityFailure ? error.cause : error;
  if (cause instanceof ApplicationFailure || cause instanceof Error) return cause.message;
  return String(cause);
}

function describeRun(due: number, r: ImageListRenewalResult): string {
  return [
    `**${due} list(s) due**: ${r.renewed.length} renewed, ${r.notRenewed.length} not renewed, ${r.skipped.length} skipped`,
    '',
    ...r.renewed.map((l) => `- renewed ${l.title}: version ${l.version}, expires ${l.expires}`),
    ...r.notRenewed.map((l) => `- NOT renewed ${l.title} (expires ${l.expiresAt}): ${l.reason}`),
  ].join('\n');
}
