import type { RawUploadResult } from '../schemas/raw-upload.js';
import {
  isCancellation,
  patched,
  setHandler,
  sleep,
  upsertMemo,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { CloudName } from '../schemas/steps.js';
import { searchAttributeKeys as keys } from '../schemas/search-attributes.js';
import type { ReleasePlan } from '../schemas/release-plan.js';
import type { ImageRef, ReleaseRef, ResolvedImageSource } from '../activities/provider.js';
import { releaseActivities } from './activity-options.js';
import type { DryRunReport, ReleaseStatus, ReleaseStatusBoard } from './release-status.js';
import { DRY_RUN_PATCH, dryRun } from './dry-run.js';
import { ReleaseSteps, resolveBuild, useBuild } from './release-steps.js';
import { releaseInEveryAccount, type PinnedBuild } from './account-releases.js';
import { PREFLIGHT_CHECKS_PATCH, preflightEveryAccount } from './preflight.js';
import { describeFailure } from './describe-failure.js';
import { notifyReleaseFinished } from './notify-finished.js';
import { recordReleaseEnd } from './release-metrics.js';
import { Compensations } from './saga.js';
import { setUpStatusBoard } from './status-board-setup.js';
import { attemptFailedSignal, buildQuery } from './queries.js';

export interface ReleaseResult {
  releaseId: string;
  imageName: string;
  images: ImageRef[];
  deprecated: ImageRef[];
  source?: ResolvedImageSource;
  status: ReleaseStatus;
  /** `dry_run: true`: what the release would have done (it made nothing). */
  dryRun?: DryRunReport;
  /** raw_image_upload: the objects the image file (and its additional files) became. */
  rawUpload?: RawUploadResult;
}

/**
 * Releases one image: download → upload → create → test → replicate → publish → deprecate →
 * cleanup, stopping after `last_service`. Takes the job document as its one argument so the
 * Web UI's "Start Workflow" form can start it; the document is validated by an activity.
 * A job naming several accounts becomes one child release per account (`pinned` is how the
 * parent hands its children the build it chose).
 */
export async function releaseImage(job: Record<string, unknown>, pinned?: PinnedBuild): Promise<ReleaseResult> {
  const info = workflowInfo();
  const { workflowsQueue, queuePrefix, board, decisions, report } = setUpStatusBoard({
    cloud: String(job.cloud ?? 'local') as CloudName,
    account: String(job.cloud_account ?? ''),
    imageName: String(job.cloud_image_name ?? ''),
  });
  setHandler(attemptFailedSignal, (failed) => {
    const of = failed.maximumAttempts ? ` of ${failed.maximumAttempts}` : '';
    board.attemptFailed(`${failed.activityType} attempt ${failed.attempt}${of} failed: ${failed.message}`);
    report();
  });
  const compensations = new Compensations();
  let source: ResolvedImageSource | undefined;
  let plan: ReleasePlan | undefined;
  let isDryRun = false;
  // Per-account children are reported by their parent, in one notification; a dry run notifies no one.
  const notify = () =>
    pinned?.reportedByParent || isDryRun ? Promise.resolve() : notifyReleaseFinished(plan, board, workflowsQueue);
  let build: { source: ResolvedImageSource; imageName: string } | undefined;
  setHandler(buildQuery, () => build);

  try {
    plan = await releaseActivities(workflowsQueue, 0, 'validate the job and plan the release').quick.planRelease(job);
    const account = plan.accountReleases?.map((a) => a.account).join(',') ?? plan.account;
    Object.assign(board.status, { cloud: plan.cloud, account });
    upsertSearchAttributes([
      { key: keys.cloud, value: plan.cloud },
      { key: keys.account, value: account },
    ]);
    isDryRun = plan.dryRun && patched(DRY_RUN_PATCH);
    // A dry run reports when the release would start instead of waiting for it.
    if (!isDryRun) await waitForStartTime(plan, board, report);

    const release: ReleaseRef = {
      releaseId: info.workflowId,
      releaseToken: info.runId,
      cloud: plan.cloud,
      account: plan.account,
    };
    if (plan.accountReleases) {
      const resolved = await resolveBuild({ plan, board, report, workflowsQueue }, utcDate(info.runStartTime));
      build = resolved;
      source = resolved.source;
      if (patched(PREFLIGHT_CHECKS_PATCH)) await preflightEveryAccount(plan, board, report, resolved.imageName, `${queuePrefix}${plan.cloud}`);
      await releaseInEveryAccount(plan, board, report, { parentReleaseId: info.workflowId, ...resolved });
    } else {
      const steps = new ReleaseSteps({
        ...{ plan, release, board, report, compensations, decisions, workflowsQueue, cloudQueue: `${queuePrefix}${plan.cloud}` },
        // A retry (`job retry`) adopts what its earlier runs left intact.
        ...(pinned?.earlierRuns?.length && { earlierRuns: pinned.earlierRuns }),
        // The upload computed the checksum of a source that published none: a retry pins it.
        onChecksumComputed: (computed: ResolvedImageSource) => {
          source = computed;
          if (build) build = { ...build, source: computed };
        },
      });
      let resolved: { source: ResolvedImageSource; imageName: string };
      if (pinned) {
        resolved = pinned;
        useBuild(board, pinned.source, pinned.imageName, pinned.chosenBy ?? `release ${pinned.parentReleaseId}`);
      } else {
        resolved = await steps.download(utcDate(info.runStartTime));
      }
      build = { source: resolved.source, imageName: resolved.imageName };
      source = resolved.source;
      if (isDryRun) await dryRun({ plan, release, board, report, cloudQueue: `${queuePrefix}${plan.cloud}` }, steps, resolved.source, resolved.imageName);
      else await steps.run(resolved.source, resolved.imageName);
    }
    board.finish();
    recordReleaseEnd(board.status);
    await notify();
    report();
    upsertMemo({ status: board.status });
    return {
      releaseId: info.workflowId,
      imageName: board.status.imageName,
      images: board.status.images,
      deprecated: board.status.deprecated,
      source,
      status: board.status,
      ...(board.status.dryRun && { dryRun: board.status.dryRun }),
      ...(board.status.rawUpload && { rawUpload: board.status.rawUpload }),
    };
  } catch (error) {
    const cancelled = isCancellation(error);
    board.fail(cancelled ? 'release cancelled' : describeFailure(error), cancelled ? 'cancelled' : 'failed');
    const problems = await compensations.runAll();
    if (problems.length) board.status.error += `; cleanup problems: ${problems.join('; ')}`;
    recordReleaseEnd(board.status);
    await notify();
    report();
    upsertMemo({ status: board.status });
    throw error;
  }
}

/** `utctime` in the future: wait for it on a durable timer (survives restarts). */
async function waitForStartTime(plan: ReleasePlan, board: ReleaseStatusBoard, report: () => void): Promise<void> {
  if (!plan.startAt) return;
  const delayMs = Date.parse(plan.startAt) - Date.now();
  if (delayMs <= 0) return;
  board.status.state = 'waiting';
  board.status.waitingUntil = plan.startAt;
  report();
  await sleep(delayMs);
  board.status.state = 'running';
  board.status.waitingUntil = undefined;
}

/** mash's {date}: the UTC day the release started, YYYYMMDD. */
function utcDate(at: Date): string {
  return at.toISOString().slice(0, 10).replace(/-/g, '');
}
