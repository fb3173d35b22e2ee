import {
  ActivityCancellationType,
  patched,
  proxyActivities,
  workflowInfo,
  type ActivityOptions,
} from '@temporalio/workflow';
import type { createRawUploadActivities } from '../activities/common/raw-upload/raw-upload-activity.js';
import type { ReleaseRef, ResolvedImageSource } from '../activities/provider.js';
import { rawUploadCloud } from '../schemas/raw-upload.js';
import type { ReleasePlan } from '../schemas/release-plan.js';
import type { ReleaseStatusBoard } from './release-status.js';
import { UPLOAD_QUEUE_PATCH } from './upload-queue-patch.js';
import { uploadQueueOf } from '../schemas/worker-queues.js';

/** Marks histories whose releases run the raw_image_upload step (before it, the field was refused). */
export const RAW_IMAGE_UPLOAD_PATCH = 'raw-image-upload-step';

/**
 * Streaming the image file to a bucket: as long as the upload step may take; a silent worker
 * is noticed within the heartbeat timeout and the retry continues from the last heartbeat.
 */
const rawUpload: ActivityOptions = {
  startToCloseTimeout: '12h',
  heartbeatTimeout: '30s',
  cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
  retry: { initialInterval: '2s', backoffCoefficient: 2, maximumInterval: '2m', maximumAttempts: 20 },
};

export interface RawImageUploadContext {
  plan: ReleasePlan;
  release: ReleaseRef;
  board: ReleaseStatusBoard;
  report: () => void;
  queuePrefix: string;
}

/**
 * mash's raw_image_upload step, after test: the image file as served copied to the job's
 * bucket on the queue of the bucket's cloud (its account's credentials live there), whatever
 * cloud the release is for. The objects (URL, size, sha512) go on the board and into the
 * release's result. Skipped when the job asks for none.
 */
export async function rawImageUploadStep(
  ctx: RawImageUploadContext,
  source: ResolvedImageSource,
  imageName: string,
): Promise<void> {
  const { plan, board } = ctx;
  const upload = plan.rawImageUpload;
  if (!upload || !patched(RAW_IMAGE_UPLOAD_PATCH))
    return board.skip('raw_image_upload', 'not requested by the job');
  board.start('raw_image_upload', `copying ${source.fileName} to ${upload.type} ${upload.location}`);
  ctx.report();
  const cloud = rawUploadCloud(upload.type);
  const { uploadRawImage } = proxyActivities<ReturnType<typeof createRawUploadActivities>>({
    ...rawUpload,
    // A stream of many GiB like the image upload: on the upload queue's few slots, once workers have it.
    taskQueue: patched(UPLOAD_QUEUE_PATCH) ? uploadQueueOf(`${ctx.queuePrefix}${cloud}`) : `${ctx.queuePrefix}${cloud}`,
    summary: `raw upload of ${source.fileName} to ${upload.location}`,
  });
  const result = await uploadRawImage({
    release: ctx.release,
    source,
    upload,
    imageName,
    date: nameDate(plan, source),
  });
  board.status.rawUpload = result;
  const extra = result.additional.length ? ` and ${result.additional.length} additional file(s)` : '';
  board.succeed(
    'raw_image_upload',
    `${result.image.url}: ${result.image.sizeBytes} bytes, sha512 ${result.image.sha512.slice(0, 12)}…${extra}`,
    [result.image.url, ...result.additional.map((a) => a.url)],
  );
}

/** The image name's {date}: the build's day with use_build_time, else the day the release started. */
function nameDate(plan: ReleasePlan, source: ResolvedImageSource): string {
  const at = plan.useBuildTime && source.builtAt ? source.builtAt : workflowInfo().runStartTime.toISOString();
  return at.slice(0, 10).replace(/-/g, '');
}
