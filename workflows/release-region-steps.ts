// The steps after the test that run one unit per region (replicate, publish, deprecate):
// each region's failure blocks on its own (on_failure) while the others' results are kept.
// Split out of release-steps.ts, unchanged: the same activities in the same order, so every
// recorded release history replays.
import { patched } from '@temporalio/workflow';
import type { ImageRef } from '../activities/provider.js';
import type { CatalogFacts } from '../activities/cloud-activities.js';
import type { ReleasePlan } from '../schemas/release-plan.js';
import { cloudActivities } from './activity-options.js';
import { BLOCKED_UNITS_PATCH, runRegionUnits, withDecisions } from './region-units.js';
import { reusedNote } from './reuse-earlier-runs.js';
import { removeFromImageLists } from './image-lists.js';
import type { ReleaseSteps } from './release-steps.js';

/** `reusedCopies`: copies a retry adopted from its earlier runs; only the other regions are copied to. */
export async function replicateStep(
  steps: ReleaseSteps,
  home: ImageRef,
  facts: CatalogFacts,
  reusedCopies: ImageRef[] = [],
): Promise<void> {
  const { plan, release, board, compensations } = steps.ctx;
  if (plan.cloud === 'gce')
    return board.skip('replicate', 'GCE images are global: every region can use them');
  if (plan.replicaRegions.length === 0) return board.skip('replicate', 'no additional regions');
  const toCopy = plan.replicaRegions.filter((r) => !reusedCopies.some((c) => c.region === r));
  steps.begin('replicate', `copying to ${toCopy.join(', ') || 'no region (every copy is reused)'}`);
  // One activity (and retry budget) per region; wait for all, so every copy that was made
  // is known to the saga even when another region failed.
  const azure = plan.cloud === 'azure';
  const done: string[] = [];
  const copyTo = async (targetRegion: string) => {
    const summary = azure ? `replicate to ${targetRegion}` : `copy to ${targetRegion}`;
    // Hours-long copies are waited for (longCloudWait), never failed by a clock alone.
    const copy = await cloudActivities(steps.ctx.cloudQueue, summary).wait.replicateImage({
      release,
      source: home,
      targetRegion,
      description: plan.description,
      catalog: facts,
      ...steps.azureOptions(),
    });
    if (azure) {
      // A gallery version replicates for minutes to hours per region: the board says which are done as each is.
      done.push(targetRegion);
      board.step('replicate').detail =
        `replicated to ${done.join(', ')}; waiting for ${plan.replicaRegions.filter((r) => !done.includes(r)).join(', ') || 'none'}`;
      steps.ctx.report();
    }
    return copy;
  };
  const copies: ImageRef[] = [...reusedCopies];
  board.status.images.push(...reusedCopies);
  // A failure retries did not cure blocks (keeping every copy), or fails as before.
  const outcome = await runRegionUnits(
    steps.unitsContext(),
    'replicate',
    toCopy,
    (r) => r,
    copyTo,
    (_region, copy) => {
      copies.push(copy);
      board.status.images.push(copy);
      compensations.add(`delete image ${copy.imageId}`, () =>
        steps.cloud(`saga: delete image ${copy.imageId}`).deleteImage(release, copy),
      );
    },
  );
  const { skipped } = outcome;
  if (skipped.length) board.status.skippedRegions = skipped;
  // Reused copies came first: the step names the regions in the job's order.
  if (reusedCopies.length)
    copies.sort((a, b) => plan.replicaRegions.indexOf(a.region) - plan.replicaRegions.indexOf(b.region));
  // A gallery version is one image in every region: name it once.
  const made = azure
    ? copies.length
      ? `${home.imageId} replicated to ${copies.map((c) => c.region).join(', ')}`
      : 'no copies'
    : copies
        .map((c) => `${c.region}: ${reusedCopies.includes(c) ? reusedNote(board, c.imageId) : c.imageId}`)
        .join(', ') || 'no copies';
  board.succeed(
    'replicate',
    withDecisions(made, outcome),
    azure ? [home.imageId] : copies.map((c) => c.imageId),
  );
}

/** Shares every image as the job says, then marks the release published in the catalog. */
export async function publishStep(steps: ReleaseSteps): Promise<void> {
  const { plan, release, board, compensations } = steps.ctx;
  const detail = describeSharing(plan.shareWith);
  steps.begin('publish', detail);
  const publishIn = (image: ImageRef) =>
    steps.cloud(`publish ${image.imageId} in ${image.region}: ${detail}`).publishImage({
      release,
      image,
      shareWith: plan.shareWith,
      allowCopy: plan.allowCopy,
      options: plan.imageOptions,
    });
  // Each region its own unit, blocking when one fails for good; older histories failed at once.
  const outcome = patched(BLOCKED_UNITS_PATCH)
    ? await runRegionUnits(steps.unitsContext(), 'publish', board.status.images, (i) => i.region, publishIn)
    : await Promise.all(board.status.images.map(publishIn)).then(() => ({ skipped: [], decided: [] }));
  if (outcome.skipped.length)
    board.status.skippedRegions = [...new Set([...(board.status.skippedRegions ?? []), ...outcome.skipped])];
  const visibility = visibilityOf(plan.shareWith);
  // Only histories where a publish was skipped carry privateRegions, so older ones replay as they ran.
  const privateRegions = outcome.skipped.length ? { privateRegions: outcome.skipped } : {};
  await steps
    .quick(`catalog: the release is ${visibility}`)
    .activateRelease({ releaseToken: release.releaseToken, visibility, ...privateRegions });
  // Published: from here a failure must not pull the release out from under its users.
  compensations.forgetAll();
  board.succeed('publish', withDecisions(detail, outcome));
}

/** Retires the line's earlier release (or old_cloud_image_name) in every region, then takes it out of its image lists. */
export async function deprecateStep(steps: ReleaseSteps): Promise<void> {
  const { plan, release, board } = steps.ctx;
  steps.begin(
    'deprecate',
    plan.oldCloudImageName
      ? `retiring ${plan.oldCloudImageName}`
      : `retiring older releases of ${plan.imageLine}`,
  );
  const newImages = board.status.images;
  const replaced = plan.oldCloudImageName
    ? await steps.cloud(`find ${plan.oldCloudImageName} to deprecate`).findImagesByName({
        release,
        imageName: plan.oldCloudImageName,
        regions: steps.regions,
        newImages,
        ...steps.azureOptions(),
      })
    : await steps
        .quick(`catalog: find older releases of ${plan.imageLine}`)
        .findReplacedImages({ release, imageLine: plan.imageLine, newImages });
  if (replaced.length === 0)
    return board.succeed('deprecate', 'nothing to deprecate (no earlier release found)');
  const retire = (r: (typeof replaced)[number]) =>
    steps
      .cloud(`deprecate ${r.image.imageId} in ${r.image.region}`)
      .deprecateImage({ release, ...r, options: plan.imageOptions });
  let outcome = { skipped: [] as string[], decided: [] as string[] };
  if (patched(BLOCKED_UNITS_PATCH)) {
    outcome = await runRegionUnits(
      steps.unitsContext(),
      'deprecate',
      replaced,
      (r) => r.image.region,
      retire,
      (r) => board.status.deprecated.push(r.image),
    );
  } else {
    const outcomes = await Promise.allSettled(replaced.map(retire));
    outcomes.forEach((o, i) => o.status === 'fulfilled' && board.status.deprecated.push(replaced[i]!.image));
    const failed = outcomes.find((o): o is PromiseRejectedResult => o.status === 'rejected');
    if (failed) throw failed.reason;
  }
  if (outcome.skipped.length)
    board.status.skippedRegions = [...new Set([...(board.status.skippedRegions ?? []), ...outcome.skipped])];
  const ids = board.status.deprecated.map((d) => d.imageId);
  board.succeed('deprecate', withDecisions(`deprecated ${ids.length}: ${ids.join(', ')}`, outcome), ids);
  await removeFromImageLists(board, release, board.status.deprecated, steps.ctx.workflowsQueue);
}

export function describeSharing(shareWith: ReleasePlan['shareWith']): string {
  if (shareWith === 'all') return 'public';
  if (shareWith === 'none') return 'private to the account';
  return `shared with ${shareWith.join(', ')}`;
}

function visibilityOf(shareWith: ReleasePlan['shareWith']): string {
  return shareWith === 'all' ? 'public' : shareWith === 'none' ? 'private' : 'shared';
}
