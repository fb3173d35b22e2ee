import { ApplicationFailure, patched, proxyActivities, type ActivityOptions } from '@temporalio/workflow';
import type { ImageListActivities } from '../activities/common/imagelist/release-list-activities.js';
import type { ImageRef, ReleaseRef, ResolvedImageSource, UploadedDisk } from '../activities/provider.js';
import type { ListEntryFile, ListPublication } from '../schemas/imagelist-release.js';
import type { ReleasePlan } from '../schemas/release-plan.js';
import type { ReleaseStatusBoard } from './release-status.js';

/**
 * Marks histories whose releases keep signed image lists (job field image_lists): the lists
 * are checked before the upload, written and published after publish, and deprecated images
 * leave every list that carries them. Older histories did none of it.
 */
export const IMAGE_LISTS_PATCH = 'image-lists-from-releases';

/**
 * Signing and uploading a few lists: quick, a few tries for a web server or sftp host briefly
 * down. A refusal (no such list, no upload target, a certificate that may not sign) is final.
 */
export const listCall: ActivityOptions = {
  startToCloseTimeout: '5m',
  retry: {
    initialInterval: '5s',
    backoffCoefficient: 2,
    maximumInterval: '1m',
    maximumAttempts: 5,
    nonRetryableErrorTypes: [
      'PublishTargetError',
      'ImageListSignRefused',
      'ImageListNotFoundError',
      'ImageListInputError',
    ],
  },
};

function listActivities(workflowsQueue: string, summary: string) {
  return proxyActivities<ImageListActivities>({ ...listCall, taskQueue: workflowsQueue, summary });
}

/** Whether this release keeps image lists (and so asks the upload for the file's sha512). */
export function keepsImageLists(plan: ReleasePlan): boolean {
  return !!plan.imageLists?.length && patched(IMAGE_LISTS_PATCH);
}

/** Preflight: a list the job names that is not stored (or has no upload target) refuses the job before the upload. */
export async function checkImageLists(plan: ReleasePlan, workflowsQueue: string): Promise<void> {
  if (!keepsImageLists(plan)) return;
  await listActivities(
    workflowsQueue,
    `preflight: image lists ${plan.imageLists!.join(', ')}`,
  ).checkImageLists({
    lists: plan.imageLists!,
  });
}

/** After publish: the line's entry in each list the job names, and each list signed and published. */
export async function updateImageLists(
  ctx: { plan: ReleasePlan; release: ReleaseRef; board: ReleaseStatusBoard; workflowsQueue: string },
  source: ResolvedImageSource,
  imageName: string,
  disk: UploadedDisk | undefined,
): Promise<void> {
  const { plan, board } = ctx;
  if (!keepsImageLists(plan)) return;
  const published = await listActivities(
    ctx.workflowsQueue,
    `image lists: add ${imageName} to ${plan.imageLists!.join(', ')}`,
  ).updateReleaseLists({
    release: ctx.release,
    lists: plan.imageLists!,
    entry: {
      imageLine: plan.imageLine,
      imageName,
      description: plan.description,
      architecture: plan.architecture,
      ...(source.version && { sourceVersion: source.version }),
      file: listedFile(board, source, disk),
    },
  });
  record(board, 'publish', published);
}

/** Deprecated images leave the lists that carry them, which are published again (older histories: nothing). */
export async function removeFromImageLists(
  board: ReleaseStatusBoard | undefined,
  release: ReleaseRef,
  images: ImageRef[],
  workflowsQueue: string,
): Promise<ListPublication[]> {
  if (images.length === 0 || !patched(IMAGE_LISTS_PATCH)) return [];
  const published = await listActivities(
    workflowsQueue,
    `image lists: remove ${images.length} deprecated image(s)`,
  ).removeDeprecatedFromLists({
    cloud: release.cloud,
    account: release.account,
    images,
  });
  if (board) record(board, 'deprecate', published);
  return published;
}

/**
 * The file the entry names, with the sha512 and size of the one streaming pass that read it:
 * the raw upload's object, else the build as served (the upload hashed it for this).
 */
function listedFile(
  board: ReleaseStatusBoard,
  source: ResolvedImageSource,
  disk: UploadedDisk | undefined,
): ListEntryFile {
  const raw = board.status.rawUpload?.image;
  if (raw) return { rawUploadUrl: raw.url, sizeBytes: raw.sizeBytes, sha512: raw.sha512 };
  if (disk?.served) return { uri: source.url, ...disk.served };
  // A retry that adopted an earlier run's disk read nothing: only a sha512 checksum file with a known size will do.
  if (source.checksum.algorithm === 'sha512' && source.sizeBytes !== undefined)
    return { uri: source.url, sizeBytes: source.sizeBytes, sha512: source.checksum.hex.toLowerCase() };
  throw ApplicationFailure.create({
    type: 'ImageListEntryUnknown',
    nonRetryable: true,
    message: `image_lists: the sha512 of ${source.fileName} is unknown (this run adopted an earlier run's upload, which did not compute it); the image is published, add it with: imagecast imagelist image add LIST --file ${source.fileName}`,
  });
}

function record(
  board: ReleaseStatusBoard,
  step: 'publish' | 'deprecate',
  published: ListPublication[],
): void {
  if (published.length === 0) return;
  board.status.imageLists = [...(board.status.imageLists ?? []), ...published];
  const s = board.step(step);
  s.detail = `${s.detail ?? ''}; image lists: ${published.map((p) => `${p.title} ${p.version} (${p.images} image(s))`).join(', ')}`;
}
