import { setCurrentDetails, workflowInfo } from '@temporalio/workflow';
import type { RetirementPolicy } from '../schemas/retirement-policy.js';
import type { ImageRef, ReleaseRef } from '../activities/provider.js';
import type { RetirementPlan } from '../activities/common/retirement-plan.js';
import { cloudActivities, releaseActivities } from './activity-options.js';
import { removeFromImageLists } from './image-lists.js';
import type { ListPublication } from '../schemas/imagelist-release.js';

export interface RetirementResult {
  dryRun: boolean;
  kept: string[];
  deprecated: ImageRef[];
  deleted: ImageRef[];
  /** Planned but not done (dry run). */
  planned?: RetirementPlan;
  /** Image lists that carried a deprecated image, published again without it. */
  imageLists?: ListPublication[];
}

/**
 * A scheduled retirement run for one image line in one account (`imagecast schedule
 * deprecate`): the newest `keep` releases stay, older ones are deprecated in every region
 * (the cloud's deprecation plus the catalog), long-deprecated ones are deleted. Each image is
 * its own activity, so one region's trouble is retried alone; a dry run changes nothing.
 */
export async function deprecateImages(policy: RetirementPolicy): Promise<RetirementResult> {
  const info = workflowInfo();
  const workflowsQueue = info.taskQueue;
  const cloudQueue = `${workflowsQueue.replace(/workflows$/, '')}${policy.cloud}`;
  const plan = await releaseActivities(workflowsQueue).quick.planRetirement(policy);
  setCurrentDetails(describePlan(policy, plan));
  if (policy.dry_run) return { dryRun: true, kept: plan.kept, deprecated: [], deleted: [], planned: plan };

  const { cloud } = cloudActivities(cloudQueue);
  // Actions of a retirement run carry the run's own id and token (the catalog records them).
  const run: ReleaseRef = { releaseId: info.workflowId, releaseToken: info.runId, cloud: policy.cloud, account: policy.account };
  await Promise.all(plan.deprecate.map((r) => cloud.deprecateImage({ release: run, image: r.image, replacement: r.replacement })));
  await Promise.all(plan.delete.map((image) => cloud.deleteImage(run, image)));
  const deprecated = plan.deprecate.map((r) => r.image);
  const imageLists = await removeFromImageLists(undefined, run, deprecated, workflowsQueue);
  return {
    ...(imageLists.length && { imageLists }),
    dryRun: false,
    kept: plan.kept,
    deprecated: plan.deprecate.map((r) => r.image),
    deleted: plan.delete,
  };
}

function describePlan(policy: RetirementPolicy, plan: RetirementPlan): string {
  const list = (images: ImageRef[]) => images.map((i) => `${i.region}: ${i.imageId}`).join(', ') || 'none';
  return [
    `**${policy.image_line}** (${policy.cloud}/${policy.account})${policy.dry_run ? ' — dry run' : ''}`,
    '',
    `- kept: ${plan.kept.join(', ') || 'none'}`,
    `- deprecate: ${list(plan.deprecate.map((r) => r.image))}`,
    `- delete: ${list(plan.delete)}`,
  ].join('\n');
}
