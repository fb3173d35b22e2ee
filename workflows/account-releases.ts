import {
  ApplicationFailure,
  executeChild,
  isCancellation,
  ParentClosePolicy,
  workflowInfo,
} from '@temporalio/workflow';
import { RELEASE_STEPS } from '../schemas/steps.js';
import type { ReleasePlan } from '../schemas/release-plan.js';
import type { ImageRef, ResolvedImageSource } from '../activities/provider.js';
import type { releaseImage } from './release-image.js';
import type { AccountRelease, ReleaseStatusBoard, StepStatus } from './release-status.js';
import { describeFailure } from './describe-failure.js';

/**
 * A build chosen before this run: by a parent release for its per-account children (so all
 * release the same one), or by the failed run a retry repeats.
 */
export interface PinnedBuild {
  /** The release that chose it. */
  parentReleaseId: string;
  /** How the status names who chose it; default `release <parentReleaseId>`. */
  chosenBy?: string;
  /** A per-account child: its parent sends the one notification for all accounts. */
  reportedByParent?: boolean;
  source: ResolvedImageSource;
  imageName: string;
  /** A retry: the earlier runs (run ids) of this release, newest first, whose leftovers it may adopt. */
  earlierRuns?: string[];
}

/**
 * A job naming several accounts runs one child release per account, all at once, each with
 * the job narrowed to its account and the build the parent chose. Each child is a whole
 * release with its own saga: a failing account removes what it made, and the others go on
 * (they are separate accounts, often separate partitions). The parent fails if any account
 * failed, naming each; cancelling the parent cancels every child, whose sagas clean up.
 */
export async function releaseInEveryAccount(
  plan: ReleasePlan,
  board: ReleaseStatusBoard,
  report: () => void,
  pinned: PinnedBuild,
): Promise<void> {
  const info = workflowInfo();
  const releases = plan.accountReleases ?? [];
  const accounts: AccountRelease[] = releases.map(({ account }) => ({
    account,
    releaseId: `${info.workflowId}/${account}`,
    state: 'running',
    images: [],
  }));
  board.status.accounts = accounts;
  board.start('upload', `releasing in ${accounts.length} accounts: ${accounts.map((a) => a.account).join(', ')}`);
  report();

  const outcomes = await Promise.allSettled(
    releases.map(({ job }, i) =>
      executeChild<typeof releaseImage>('releaseImage', {
        workflowId: accounts[i]!.releaseId,
        taskQueue: info.taskQueue,
        args: [job, { ...pinned, reportedByParent: true }],
        parentClosePolicy: ParentClosePolicy.REQUEST_CANCEL,
        // The Web UI's one line, as for releases the CLI starts (metadata only: not replayed).
        staticSummary: `${plan.dryRun ? 'dry run of release' : 'release'} ${pinned.imageName} · ${plan.cloud}/${accounts[i]!.account} (one account of ${info.workflowId})`,
      }),
    ),
  );

  const stepsByAccount: StepStatus[][] = [];
  outcomes.forEach((outcome, i) => {
    const summary = accounts[i]!;
    if (outcome.status === 'fulfilled') {
      const result = outcome.value;
      Object.assign(summary, { state: 'succeeded', images: result.images, ...(result.dryRun && { dryRun: result.dryRun }) });
      stepsByAccount.push(result.status.steps.map((s) => ({ ...s, detail: `${summary.account}: ${s.detail ?? s.state}` })));
      board.status.images.push(...result.images.map((image) => withAccount(image, summary.account)));
      board.status.deprecated.push(...result.deprecated.map((image) => withAccount(image, summary.account)));
    } else {
      Object.assign(summary, {
        state: isCancellation(outcome.reason) ? 'cancelled' : 'failed',
        error: describeFailure(outcome.reason),
      });
    }
  });

  const cancelled = outcomes.find((o): o is PromiseRejectedResult => o.status === 'rejected' && isCancellation(o.reason));
  if (cancelled) throw cancelled.reason;
  const failed = accounts.filter((a) => a.state === 'failed');
  if (failed.length > 0) {
    const released = accounts.filter((a) => a.state === 'succeeded').map((a) => a.account);
    throw ApplicationFailure.create({
      type: 'AccountReleaseFailed',
      nonRetryable: true,
      message:
        `${failed.map((a) => `account ${a.account}: ${a.error}`).join('; ')}` +
        (released.length ? ` (released in ${released.join(', ')}; start a job for the failed accounts only)` : ''),
    });
  }
  mergeSteps(board, stepsByAccount);
}

/** The parent's step table: each step as the accounts did it, its detail per account. */
function mergeSteps(board: ReleaseStatusBoard, stepsByAccount: StepStatus[][]): void {
  for (const name of RELEASE_STEPS) {
    if (name === 'download') continue;
    const steps = stepsByAccount.map((steps) => steps.find((s) => s.name === name)!);
    const step = board.step(name);
    Object.assign(step, {
      state: steps.every((s) => s.state === 'skipped') ? 'skipped' : 'succeeded',
      startedAt: steps.map((s) => s.startedAt).filter(Boolean).sort()[0],
      finishedAt: steps.map((s) => s.finishedAt).filter(Boolean).sort().at(-1),
      detail: steps.map((s) => s.detail).join('; '),
      produced: steps.flatMap((s) => s.produced ?? []),
    });
  }
}

function withAccount(image: ImageRef, account: string): ImageRef {
  return { ...image, account };
}
