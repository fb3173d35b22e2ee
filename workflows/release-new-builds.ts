import { ActivityFailure, ApplicationFailure, executeChild, ParentClosePolicy, workflowInfo } from '@temporalio/workflow';
import { deterministicReleaseId } from '../schemas/job/names.js';
import type { releaseImage } from './release-image.js';
import type { ReleaseResult } from './release-image.js';
import { releaseActivities } from './activity-options.js';
import { checksumPending } from './stream-checksum.js';

export interface BuildWatchResult {
  released: boolean;
  /** Why nothing was released, or which release ran. */
  reason: string;
  releaseId?: string;
  imageName?: string;
  result?: ReleaseResult;
}

/** Source problems that mean "no new build to release this time", not a broken watch. */
const NOTHING_TO_RELEASE = new Set(['ImageSourceNotFound', 'ConditionsNotMet', 'DisallowedContent']);

/**
 * One poll of a `utctime: always` job (mash's "always"), run by a Temporal Schedule
 * (`imagecast job add` makes it): find the newest build at download_url that meets the job's
 * conditions; when the catalog has not seen its checksum for this line and account, release
 * it as a child release (the usual release id, the build pinned). A build already released,
 * or none that qualifies, ends the poll quietly with the reason.
 */
export async function releaseNewBuilds(job: Record<string, unknown>): Promise<BuildWatchResult> {
  const info = workflowInfo();
  const queue = info.taskQueue;
  const once = { ...job, utctime: 'now', conditions_wait_time: 0 };
  const { quick, source } = releaseActivities(queue);
  const plan = await quick.planRelease(once);
  const date = new Date(Date.now()).toISOString().slice(0, 10).replace(/-/g, '');
  let resolved;
  try {
    resolved = await source.resolveSource({ plan, date });
  } catch (error) {
    const type = error instanceof ActivityFailure && error.cause instanceof ApplicationFailure ? error.cause.type : undefined;
    if (type && NOTHING_TO_RELEASE.has(type)) return { released: false, reason: `no build to release: ${(error as ActivityFailure).cause!.message}` };
    throw error;
  }
  if (checksumPending(resolved.source)) {
    // A watch knows a build it released by its checksum, before releasing it again; this one
    // has none until it is read whole, so every poll would release it anew. Nothing is released.
    const { url, fileName } = resolved.source;
    return {
      released: false,
      reason:
        `no build to release: ${url} publishes no checksum (no ${fileName}.sha256, no SHA-256 stored by S3), so a build watch ` +
        `cannot tell whether it was released already; publish ${fileName}.sha256 beside it, or release it once with utctime "now"`,
    };
  }
  const checksum = `${resolved.source.checksum.algorithm}:${resolved.source.checksum.hex}`;
  if (await quick.buildAlreadyReleased({ cloud: plan.cloud, account: plan.account, imageLine: plan.imageLine, checksum })) {
    return { released: false, reason: `${resolved.source.fileName} (${checksum.slice(0, 19)}…) is released already` };
  }
  const releaseId = deterministicReleaseId(
    { cloud: plan.cloud, cloud_image_name: plan.imageNameTemplate, cloud_account: job.cloud_account as string | undefined },
    date,
  );
  const result = await executeChild<typeof releaseImage>('releaseImage', {
    workflowId: releaseId,
    taskQueue: queue,
    args: [once, { parentReleaseId: info.workflowId, chosenBy: `build watch ${info.workflowId}`, ...resolved }],
    // The schedule's run may end; the release it started goes on.
    parentClosePolicy: ParentClosePolicy.ABANDON,
    // The Web UI's one line, as for releases the CLI starts (metadata only: not replayed).
    staticSummary: `release ${resolved.imageName} · ${plan.cloud}/${plan.account} · ${[plan.homeRegion, ...plan.replicaRegions].join(', ')} (new build seen by ${info.workflowId})`,
  });
  return { released: true, reason: `released ${resolved.imageName}`, releaseId, imageName: resolved.imageName, result };
}
