import {
  ActivityFailure,
  ApplicationFailure,
  CancellationScope,
  isCancellation,
  log,
  patched,
  proxyActivities,
  upsertMemo,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import { REVOKE_STEPS } from '../schemas/steps.js';
import { searchAttributeKeys as keys } from '../schemas/search-attributes.js';
import type { FailurePolicy } from '../schemas/release-plan.js';
import type {
  AccountRevoke,
  RevokePlan,
  RevokeNotice,
  RevokeRequest,
  RevokeResult,
  Withdrawal,
} from '../schemas/revoke.js';
import type { ImageRef, ReleaseRef } from '../activities/provider.js';
import type { ListPublication } from '../schemas/imagelist-release.js';
import type { RevokeActivities, RevokeCloudActivities } from '../activities/revoke-activities.js';
import { notifyActivities } from './activity-options.js';
import { describeFailure } from './describe-failure.js';
import type { ReleaseStatusBoard } from './release-status.js';
import { setUpStatusBoard } from './status-board-setup.js';
import { runRegionUnits, withDecisions, type RegionUnitsContext } from './region-units.js';
import { withdrawFromImageLists } from './revoke-image-lists.js';

/** Catalog and audit calls: quick; a failure is rarely cured by waiting long. */
const catalogCall = {
  startToCloseTimeout: '1m',
  retry: { initialInterval: '2s', backoffCoefficient: 2, maximumInterval: '2m', maximumAttempts: 5 },
} as const;

/** Unshare, deprecate, undeprecate: short cloud calls, retried with backoff like a release's. */
const revokeCloudCall = {
  startToCloseTimeout: '30m',
  retry: { initialInterval: '2s', backoffCoefficient: 2, maximumInterval: '2m', maximumAttempts: 10 },
} as const;

/**
 * Marks histories whose revoke notifications carry the revoke (who, why, withdrawn, restored)
 * and go out as `release.revoked`; older ones sent the status alone, as `release.finished`.
 */
export const REVOKED_EVENT_PATCH = 'revoke-notifies-release-revoked';

/** A revoke blocks like a release (a week for a decision, then abort); an aborted revoke keeps what it did. */
const REVOKE_FAILURE_POLICY: FailurePolicy = {
  policy: 'block',
  blockTimeoutSeconds: 7 * 86_400,
  onTimeout: 'abort',
  remindEverySeconds: 86_400,
};

interface Unit<T> {
  account: string;
  item: T;
}

/**
 * Revokes a published release (`imagecast release revoke ID`): in every account and region
 * of it, its images are unshared and deprecated now, then the images it had replaced are
 * made current again; the catalog and the audit log say who revoked it and why, and people
 * are told. A region that fails for good blocks the revoke as it would a release
 * (`job resume` / `job abort` on the revoke's id). Running it again is harmless: a release
 * revoked already is reported so, and one revoked half-way is finished.
 */
export async function revokeRelease(request: RevokeRequest): Promise<RevokeResult> {
  const info = workflowInfo();
  const { workflowsQueue, queuePrefix, board, decisions, report } = setUpStatusBoard(
    { cloud: 'local', account: '', imageName: '' },
    REVOKE_STEPS,
  );
  const quick = proxyActivities<RevokeActivities>({ ...catalogCall, taskQueue: workflowsQueue });
  const record = (outcome: 'ok' | 'refused' | 'failed', detail: Record<string, unknown>) =>
    CancellationScope.nonCancellable(() =>
      quick.recordRevoke({
        releaseId: request.releaseId,
        by: request.by,
        outcome,
        detail: { reason: request.reason ?? null, revokeId: info.workflowId, ...detail },
      }),
    );
  const result: RevokeResult = {
    revokeId: info.workflowId,
    releaseId: request.releaseId,
    withdrawn: [],
    restored: [],
  };
  // What was done so far when it is told: a blocked or failed revoke says how far it got.
  const notice = (): RevokeNotice => ({
    releaseId: request.releaseId,
    revokeId: info.workflowId,
    by: request.by,
    ...(request.reason && { reason: request.reason }),
    withdrawn: result.withdrawn,
    restored: result.restored,
    ...(result.skippedRegions && { skippedRegions: result.skippedRegions }),
    ...(result.imageLists && { imageLists: result.imageLists }),
  });
  const notify = () => tellPeople(board, workflowsQueue, request.notifyEmails ?? [], notice);

  try {
    const plan = await quick.planRevoke({ releaseId: request.releaseId });
    const accounts = plan.accounts.map((a) => a.account).join(',');
    Object.assign(board.status, { cloud: plan.cloud, imageName: plan.imageName, account: accounts });
    upsertSearchAttributes([
      { key: keys.cloud, value: plan.cloud },
      { key: keys.imageName, value: plan.imageName },
      ...(accounts ? [{ key: keys.account, value: accounts }] : []),
    ]);
    // Lists too: revoking again finishes a revoke whose lists failed to publish.
    const lists = () => withdrawFromImageLists(board, result, workflowsQueue);
    if (plan.alreadyRevoked) return await alreadyRevoked(plan, board, result, record, report, lists);

    const cloud = (summary: string) =>
      proxyActivities<RevokeCloudActivities>({
        ...revokeCloudCall,
        taskQueue: `${queuePrefix}${plan.cloud}`,
        summary,
      });
    const missing = await proxyActivities<RevokeCloudActivities>({
      ...catalogCall,
      taskQueue: `${queuePrefix}${plan.cloud}`,
    }).missingRevokeMethods();
    if (missing.length > 0) {
      throw ApplicationFailure.create({
        type: 'RevokeUnsupported',
        nonRetryable: true,
        message: `${plan.cloud} cannot revoke releases yet: its provider has no ${missing.join(' or ')}; nothing was changed`,
      });
    }
    const ctx: RegionUnitsContext = { board, report, decisions, policy: REVOKE_FAILURE_POLICY, notify };
    const several = plan.accounts.length > 1;
    const unitOf = (u: Unit<{ region: string } | Withdrawal>) => {
      const region = 'image' in u.item ? u.item.image.region : u.item.region;
      return several ? `${u.account}/${region}` : region;
    };
    const ref = (account: string): ReleaseRef => ({
      releaseId: info.workflowId,
      releaseToken: info.runId,
      cloud: plan.cloud,
      account,
    });

    const withdrawals = plan.accounts.flatMap((a) =>
      a.withdraw.map((item) => ({ account: a.account, item })),
    );
    board.start('withdraw', `unsharing and deprecating ${withdrawals.length} image(s) of ${plan.releaseId}`);
    report();
    const withdrawn = await runRegionUnits(
      ctx,
      'withdraw',
      withdrawals,
      unitOf,
      (u) =>
        cloud(`withdraw ${u.item.image.imageId} in ${u.item.image.region}`).withdrawImage({
          release: ref(u.account),
          ...u.item,
          by: request.by,
          ...(request.reason && { reason: request.reason }),
        }),
      (u) => result.withdrawn.push(accountImage(u.item.image, several && u.account)),
    );
    board.status.deprecated = result.withdrawn;
    board.succeed(
      'withdraw',
      withDecisions(`withdrawn: ${listOf(result.withdrawn)}`, withdrawn),
      result.withdrawn.map((i) => i.imageId),
    );

    const restores = plan.accounts.flatMap((a) => a.restore.map((item) => ({ account: a.account, item })));
    const notes = plan.accounts.flatMap((a: AccountRevoke) => (a.note ? [a.note] : []));
    if (restores.length === 0) {
      board.skip('restore', notes.join('; ') || 'nothing to restore: the release replaced no earlier image');
    } else {
      board.start('restore', `making ${restores.length} replaced image(s) current again`);
      report();
      const restored = await runRegionUnits(
        ctx,
        'restore',
        restores.filter((u) => !withdrawn.skipped.includes(unitOf(u))),
        unitOf,
        (u) =>
          cloud(`restore ${u.item.imageId} in ${u.item.region}`).restoreImage({
            release: ref(u.account),
            image: u.item,
          }),
        (u) => result.restored.push(accountImage(u.item, several && u.account)),
      );
      board.status.images = result.restored;
      const skipped = [...withdrawn.skipped, ...restored.skipped];
      if (skipped.length) result.skippedRegions = board.status.skippedRegions = [...new Set(skipped)];
      board.succeed(
        'restore',
        withDecisions(`current again: ${listOf(result.restored)}`, restored),
        result.restored.map((i) => i.imageId),
      );
    }
    if (withdrawn.skipped.length && !result.skippedRegions)
      result.skippedRegions = board.status.skippedRegions = withdrawn.skipped;
    await lists();
    board.finish();
    await record('ok', {
      withdrawn: result.withdrawn,
      restored: result.restored,
      ...(result.skippedRegions && { skipped: result.skippedRegions }),
      ...(result.imageLists && { imageLists: listVersions(result.imageLists) }),
    });
    await notify();
    report();
    upsertMemo({ status: board.status });
    return result;
  } catch (error) {
    const cancelled = isCancellation(error);
    board.fail(cancelled ? 'revoke cancelled' : describeFailure(error), cancelled ? 'cancelled' : 'failed');
    const refusal = refusalOf(error);
    await record(refusal ? 'refused' : 'failed', {
      error: board.status.error,
      withdrawn: result.withdrawn,
      restored: result.restored,
    }).catch((e: unknown) => log.warn('revoke audit record failed', { error: describeFailure(e) }));
    // A refused revoke changed nothing: nobody needs telling.
    if (!refusal) await notify();
    report();
    upsertMemo({ status: board.status });
    // The refusal as the revoke's own failure, so a client reads its type and reason directly.
    throw refusal ?? error;
  }
}

async function alreadyRevoked(
  plan: RevokePlan,
  board: ReleaseStatusBoard,
  result: RevokeResult,
  record: (outcome: 'ok', detail: Record<string, unknown>) => Promise<void>,
  report: () => void,
  lists: () => Promise<void>,
): Promise<RevokeResult> {
  const earlier = plan.alreadyRevoked!;
  const said = `release ${plan.releaseId} is already revoked (at ${earlier.at}${earlier.by ? ` by ${earlier.by}` : ''}${earlier.reason ? `: ${earlier.reason}` : ''}); nothing changed`;
  board.skip('withdraw', said);
  board.skip('restore', said);
  await lists();
  board.finish();
  await record('ok', {
    alreadyRevoked: earlier,
    ...(result.imageLists && { imageLists: listVersions(result.imageLists) }),
  });
  report();
  upsertMemo({ status: board.status });
  return { ...result, alreadyRevoked: earlier };
}

/** The revoke's notification: the release's webhooks always, its notify emails when the job had them. */
async function tellPeople(
  board: ReleaseStatusBoard,
  workflowsQueue: string,
  emails: string[],
  notice: () => RevokeNotice,
): Promise<void> {
  try {
    const revoke = patched(REVOKED_EVENT_PATCH) ? { revoke: notice() } : {};
    const sent = await CancellationScope.nonCancellable(() =>
      notifyActivities(workflowsQueue).notifyReleaseFinished({ status: board.status, emails, ...revoke }),
    );
    const to = [...sent.emailed, ...sent.webhooks];
    board.status.notification = to.length
      ? `sent to ${to.join(', ')}`
      : 'nothing to send (no email, no webhook)';
  } catch (error) {
    board.status.notification = `not sent: ${describeFailure(error)}`;
    log.warn('revoke notification failed', { error: describeFailure(error) });
  }
}

/** A refusal (the release cannot be revoked; the cloud cannot revoke), raised here or by the plan activity. */
function refusalOf(error: unknown): ApplicationFailure | undefined {
  const failure = error instanceof ActivityFailure ? error.cause : error;
  if (!(failure instanceof ApplicationFailure)) return undefined;
  if (failure.type !== 'RevokeRefused' && failure.type !== 'RevokeUnsupported') return undefined;
  return ApplicationFailure.create({ type: failure.type, message: failure.message, nonRetryable: true });
}

/** A list as the audit log keeps it: which one, and the version published. */
function listVersions(lists: ListPublication[]): string[] {
  return lists.map((l) => `${l.identifier} ${l.version}`);
}

function accountImage(image: ImageRef, account: string | false): ImageRef {
  return account ? { ...image, account } : image;
}

function listOf(images: ImageRef[]): string {
  return (
    images.map((i) => `${i.account ? `${i.account}/` : ''}${i.region}: ${i.imageId}`).join(', ') || 'none'
  );
}
