import { ApplicationFailure, patched } from '@temporalio/workflow';
import { RELEASE_STEPS, type ReleaseStep } from '../schemas/steps.js';
import { formatPreflightProblem, type PreflightProblem } from '../schemas/preflight.js';
import type { ImageRef, ResolvedImageSource } from '../activities/provider.js';
import type { DryRunReport } from './release-status.js';
import { describeSharing, type ReleaseSteps, type ReleaseStepsContext } from './release-steps.js';
import { preflightPlans } from './preflight.js';

/** Marks histories in which `dry_run: true` makes nothing (before it, the field was read nowhere). */
export const DRY_RUN_PATCH = 'dry-run-makes-nothing';

/**
 * Marks histories whose dry runs run the release's whole preflight (credentials, regions
 * enabled, public sharing, the name); older ones checked only the name and replay that way.
 */
export const DRY_RUN_PREFLIGHT_PATCH = 'dry-run-runs-every-preflight-check';

/**
 * `dry_run: true`, after the download step chose a build: the preflight a real release runs
 * before its upload (every check, every region), what each later step would do, and which
 * images the release would retire, all read-only. Nothing is uploaded, created, shared or
 * deprecated. Every problem a real release's preflight would meet fails the dry run, all
 * of them in its report, so CI can gate on it.
 */
export async function dryRun(
  ctx: Pick<ReleaseStepsContext, 'plan' | 'release' | 'board' | 'report' | 'cloudQueue'>,
  steps: ReleaseSteps,
  source: ResolvedImageSource,
  imageName: string,
): Promise<DryRunReport> {
  const { plan, release, board } = ctx;
  const regions = steps.regions;
  const found = await preflightProblems(ctx, steps, imageName);
  // The images the release would make, one per region, for pairing old images with them.
  const planned: ImageRef[] = regions.map((region) => ({ region, imageId: '(new image)', imageName }));
  const replaced = plan.oldCloudImageName
    ? await steps
        .cloud(`dry run: find ${plan.oldCloudImageName}`)
        .findImagesByName({ release, imageName: plan.oldCloudImageName, regions, newImages: planned })
    : await steps
        .quick(`dry run: catalog: find older releases of ${plan.imageLine}`)
        .findReplacedImages({ release, imageLine: plan.imageLine, newImages: planned });
  const report: DryRunReport = {
    imageName,
    build: {
      url: source.url,
      checksum:
        source.checksumFrom === 'stream' && !source.checksum.hex
          ? 'none published: the upload would compute its sha256 (not verified)'
          : `${source.checksum.algorithm}:${source.checksum.hex}`,
    },
    account: plan.account,
    homeRegion: plan.homeRegion,
    replicaRegions: plan.replicaRegions,
    sharing: describeSharing(plan.shareWith),
    allowCopy: plan.allowCopy,
    tests: plan.tests.map((t) => t.name),
    lastService: plan.lastService,
    ...(plan.startAt && { startAt: plan.startAt }),
    wouldDeprecate: plan.lastService === 'deprecate' || plan.lastService === 'cleanup' ? replaced.map((r) => r.image) : [],
    problems: found.problems,
    ...(found.preflight && { preflight: found.preflight }),
  };
  board.status.dryRun = report;
  for (const step of RELEASE_STEPS) {
    if (board.step(step).state !== 'pending') continue;
    const raw = step === 'raw_image_upload' && RELEASE_STEPS.indexOf(step) <= RELEASE_STEPS.indexOf(plan.lastService) ? plan.rawImageUpload : undefined;
    board.skip(step, raw ? `dry run: would copy ${report.build.url} to ${raw.type} ${raw.location}` : wouldDo(step, report, plan.lastService));
  }
  ctx.report();
  if (report.problems.length > 0) {
    throw ApplicationFailure.create({
      type: 'DryRunFoundProblems',
      nonRetryable: true,
      message: `dry run: the release would fail: ${report.problems.join(' | ')} (nothing was made)`,
      // As PreflightFailed carries them: programs read the account, region, check and fix.
      ...(report.preflight && { details: [{ problems: report.preflight }] }),
    });
  }
  return report;
}

/** What the real release's preflight would find; histories from before DRY_RUN_PREFLIGHT_PATCH checked the name alone. */
async function preflightProblems(
  ctx: Pick<ReleaseStepsContext, 'plan' | 'release' | 'cloudQueue'>,
  steps: ReleaseSteps,
  imageName: string,
): Promise<{ problems: string[]; preflight?: PreflightProblem[] }> {
  if (patched(DRY_RUN_PREFLIGHT_PATCH)) {
    const preflight = await preflightPlans([ctx.plan], imageName, () => ctx.cloudQueue, () => ctx.release.releaseId);
    return { problems: preflight.map(formatPreflightProblem), preflight };
  }
  const clashes = await steps.nameClashes(imageName);
  return { problems: clashes.map((c) => `an image named "${imageName}" already exists in ${c.region} (${c.imageId})`) };
}

/** One line per step: what the release would have done there. */
function wouldDo(step: ReleaseStep, report: DryRunReport, lastService: ReleaseStep): string {
  const order = RELEASE_STEPS.indexOf(step);
  if (order > RELEASE_STEPS.indexOf(lastService) && step !== 'cleanup') return `dry run: not run (after last_service "${lastService}")`;
  const regions = [report.homeRegion, ...report.replicaRegions];
  switch (step) {
    case 'upload':
      return `dry run: would upload ${report.build.url} to ${report.homeRegion}`;
    case 'create':
      return `dry run: would create ${report.imageName} in ${report.homeRegion}`;
    case 'test':
      return report.tests.length ? `dry run: would test with ${report.tests.join(', ')}` : 'dry run: no tests in the job';
    case 'raw_image_upload':
      return 'dry run: not requested by the job';
    case 'replicate':
      return report.replicaRegions.length ? `dry run: would copy to ${report.replicaRegions.join(', ')}` : 'dry run: no additional regions';
    case 'publish':
      return `dry run: would publish in ${regions.join(', ')}: ${report.sharing}`;
    case 'deprecate':
      return report.wouldDeprecate.length
        ? `dry run: would deprecate ${report.wouldDeprecate.map((i) => `${i.imageId} (${i.region})`).join(', ')}`
        : 'dry run: nothing to deprecate (no earlier release found)';
    default:
      return 'dry run: nothing was made, nothing to clean up';
  }
}
