import { patched, proxyActivities } from '@temporalio/workflow';
import type { RevokeListActivities } from '../activities/common/imagelist/revoke-list-activities.js';
import type { RevokeResult } from '../schemas/revoke.js';
import { listCall } from './image-lists.js';
import type { ReleaseStatusBoard } from './release-status.js';

/**
 * Marks revoke histories that take the revoked release's entries out of the signed image
 * lists that carry them and publish those lists again; older revokes left the lists alone.
 */
export const REVOKE_LISTS_PATCH = 'revoke-updates-image-lists';

/**
 * After the withdrawal (and restore): the revoked release leaves every image list that still
 * carries its entry, so subscribers stop trusting its image; the lists published are kept in
 * the result, the status and the withdraw step's detail. The entry of the release it had
 * replaced is not put back: the store no longer has it (activities/common/imagelist/revoked-entries.ts).
 * A revoke of a release revoked already runs this too, so revoking again finishes a revoke
 * whose lists failed to publish (or one made before revokes changed lists).
 */
export async function withdrawFromImageLists(
  board: ReleaseStatusBoard,
  result: RevokeResult,
  workflowsQueue: string,
): Promise<void> {
  if (!patched(REVOKE_LISTS_PATCH)) return;
  const published = await proxyActivities<RevokeListActivities>({
    ...listCall,
    taskQueue: workflowsQueue,
    summary: `image lists: remove the entries of ${result.releaseId}`,
  }).removeRevokedFromLists({ releaseId: result.releaseId });
  if (published.length === 0) return;
  result.imageLists = published;
  board.status.imageLists = published;
  const lists = published.map((p) => `${p.title} ${p.version} (${p.images} image(s))`).join(', ');
  const notPutBack =
    result.restored.length > 0
      ? '; the entry of the release it had replaced is not put back (imagecast imagelist image add LIST --file FILE adds it)'
      : '';
  const step = board.step('withdraw');
  step.detail = `${step.detail ?? ''}; image lists published without it: ${lists}${notPutBack}`;
}
