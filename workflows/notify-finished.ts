import { CancellationScope, log } from '@temporalio/workflow';
import type { ReleasePlan } from '../schemas/release-plan.js';
import type { ReleaseStatusBoard } from './release-status.js';
import { notifyActivities } from './activity-options.js';
import { describeFailure } from './describe-failure.js';

/**
 * mash's `notify`: when the job asks, people get an email (`notification_email`) and the
 * worker's webhooks a signed POST with the step table, on success, failure and cancellation
 * alike (so it runs even in a cancelled release). A notification that cannot be delivered
 * is recorded in the status; it never changes how the release ended.
 */
export async function notifyReleaseFinished(
  plan: ReleasePlan | undefined,
  board: ReleaseStatusBoard,
  workflowsQueue: string,
): Promise<void> {
  if (!plan?.notify) return;
  try {
    const sent = await CancellationScope.nonCancellable(() =>
      notifyActivities(workflowsQueue).notifyReleaseFinished({ status: board.status, emails: plan.notify!.emails }),
    );
    const to = [...sent.emailed, ...sent.webhooks];
    board.status.notification = to.length ? `sent to ${to.join(', ')}` : 'nothing to send (no email, no webhook)';
  } catch (error) {
    board.status.notification = `not sent: ${describeFailure(error)}`;
    log.warn('release notification failed', { error: describeFailure(error) });
  }
}
