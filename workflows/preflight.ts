import { ApplicationFailure, workflowInfo } from '@temporalio/workflow';
import type { ReleasePlan } from '../schemas/release-plan.js';
import { formatPreflightProblem, type PreflightProblem } from '../schemas/preflight.js';
import { cloudActivities, releaseActivities } from './activity-options.js';
import type { ReleaseStatusBoard } from './release-status.js';

/**
 * Marks histories whose releases run every preflight check (credentials, regions enabled,
 * image name, public sharing) in every account before uploading, and fail listing every
 * problem. Older histories checked only the name (PREFLIGHT_PATCH) and replay that way.
 */
export const PREFLIGHT_CHECKS_PATCH = 'preflight-every-check-before-upload';

/** The planned releases' accounts, checked in parallel on their cloud's queue; every problem of every account. */
export async function preflightPlans(
  plans: ReleasePlan[],
  imageName: string,
  /** The cloud queue of a plan's cloud (`imagecast-ec2`). */
  queueOf: (plan: ReleasePlan) => string,
  releaseId: (plan: ReleasePlan) => string,
): Promise<PreflightProblem[]> {
  const { runId } = workflowInfo();
  const found = await Promise.all(
    plans.map((plan) => {
      const regions = [plan.homeRegion, ...plan.replicaRegions];
      return cloudActivities(
        queueOf(plan),
        `preflight: ${plan.cloud} account ${plan.account} in ${regions.join(', ')}`,
      ).cloud.preflight({
        release: {
          releaseId: releaseId(plan),
          releaseToken: runId,
          cloud: plan.cloud,
          account: plan.account,
        },
        imageName,
        regions,
        shareWith: plan.shareWith,
        ...(plan.imageOptions && { options: plan.imageOptions }),
      });
    }),
  );
  return found.flat();
}

/**
 * A job naming several accounts: every account is checked before any child release starts,
 * so a problem in one account stops them all before anything is uploaded anywhere.
 */
export async function preflightEveryAccount(
  plan: ReleasePlan,
  board: ReleaseStatusBoard,
  report: () => void,
  imageName: string,
  cloudQueue: string,
): Promise<void> {
  const releases = plan.accountReleases ?? [];
  board.start(
    'upload',
    `preflight: checking ${releases.length} accounts: ${releases.map((a) => a.account).join(', ')}`,
  );
  report();
  const { quick } = releaseActivities(
    workflowInfo().taskQueue,
    0,
    'preflight: plan the release of each account',
  );
  const plans = await Promise.all(releases.map((a) => quick.planRelease(a.job)));
  const { workflowId } = workflowInfo();
  const problems = await preflightPlans(
    plans,
    imageName,
    () => cloudQueue,
    (p) => `${workflowId}/${p.account}`,
  );
  if (problems.length > 0) throw preflightFailed(problems);
}

/** A verdict: nothing was uploaded, and retrying cannot help until someone fixes what it lists. */
export function preflightFailed(problems: PreflightProblem[]): ApplicationFailure {
  const count = problems.length === 1 ? '1 problem' : `${problems.length} problems`;
  return ApplicationFailure.create({
    type: 'PreflightFailed',
    nonRetryable: true,
    message: `preflight found ${count}; nothing was uploaded: ${problems.map(formatPreflightProblem).join(' | ')}`,
    details: [{ problems }],
  });
}

export interface PreflightResult {
  imageName: string;
  /** Every account the job releases to. */
  accounts: string[];
  problems: PreflightProblem[];
}

/**
 * `imagecast job validate --preflight`: the checks a release runs before its upload, run on
 * the workers' cloud queues (with their accounts and endpoints), without starting a release.
 * The build is looked up (its listing, not its bytes) only to fill in the image name; a
 * build whose conditions are not met fails at once instead of waiting.
 */
export async function preflightRelease(job: Record<string, unknown>): Promise<PreflightResult> {
  const info = workflowInfo();
  const queuePrefix = info.taskQueue.replace(/workflows$/, '');
  const { quick } = releaseActivities(info.taskQueue, 0, 'preflight: validate the job and plan the release');
  const { source } = releaseActivities(
    info.taskQueue,
    0,
    'preflight: find the build the image name is made from',
  );
  const plan = await quick.planRelease(job);
  const plans = plan.accountReleases
    ? await Promise.all(plan.accountReleases.map((a) => quick.planRelease(a.job)))
    : [plan];
  const now = info.runStartTime.toISOString().slice(0, 10).replace(/-/g, '');
  const { imageName } = await source.resolveSource({
    plan: { ...plan, source: { ...plan.source, conditionsWaitSeconds: 0 } },
    date: now,
  });
  const problems = await preflightPlans(
    plans,
    imageName,
    (p) => `${queuePrefix}${p.cloud}`,
    () => info.workflowId,
  );
  return { imageName, accounts: plans.map((p) => p.account), problems };
}
