/**
 * Revoking a published release through Temporal: the checks a client can make before it starts
 * anything (the release exists and has ended), then the `revokeRelease` workflow.
 */
import {
  WorkflowExecutionAlreadyStartedError,
  WorkflowFailedError,
  type Client,
  type WorkflowExecutionDescription,
} from '@temporalio/client';
import {
  ApplicationFailure,
  defaultPayloadConverter,
  type Payload,
  type PayloadCodec,
} from '@temporalio/common';
import type { RevokeRequest, RevokeResult } from '../../schemas/revoke.js';
import type { ReleaseStatus } from '../../workflows/release-status.js';
import type { revokeRelease } from '../../workflows/revoke-release.js';
import { RevokeRefusedError } from './errors.js';

export type { RevokeResult } from '../../schemas/revoke.js';

export interface RevokeOptions {
  /** Why: kept in the catalog and the audit log, shown in the revoke's status. */
  reason?: string;
  /** Who revokes (the CLI sends the OS user). */
  by?: string;
}

/** What a revoke came to: ended (`result`), or blocked on a region and waiting for `job resume`/`job abort` on `revokeId`. */
export interface RevokeOutcome {
  revokeId: string;
  status: ReleaseStatus;
  /** Set once it has succeeded (`alreadyRevoked` when an earlier revoke had done it). */
  result?: RevokeResult;
}

/** The revoke of a release has this workflow id: one at a time per release, found again by it. */
export function revokeIdOf(releaseId: string): string {
  return `revoke-${releaseId}`;
}

/**
 * Starts (or joins, when one is running) the revoke of a finished release. A running release is
 * refused here, with what to do instead. One Temporal no longer knows (its history is past
 * retention: `described` undefined) may still be in the catalog, which the workflow asks: it
 * refuses a release with nothing published there.
 */
export async function startRevoke(
  temporal: Client,
  taskQueue: string,
  described: WorkflowExecutionDescription | undefined,
  releaseId: string,
  options: RevokeOptions,
  codec?: PayloadCodec,
): Promise<string> {
  if (described?.status.name === 'RUNNING') {
    const state = described.searchAttributes.ReleaseStatus?.[0];
    throw new RevokeRefusedError(
      releaseId,
      `release ${releaseId} is still running${state ? ` (${String(state)})` : ''}: only a finished release can be revoked (imagecast job cancel ${releaseId} stops it)`,
    );
  }
  const revokeId = revokeIdOf(releaseId);
  const request: RevokeRequest = {
    releaseId,
    by: options.by || 'someone (no name given)',
    ...(options.reason && { reason: options.reason }),
    notifyEmails: described ? await notifyEmailsOf(temporal, releaseId, codec) : [],
  };
  try {
    await temporal.workflow.start<typeof revokeRelease>('revokeRelease', {
      workflowId: revokeId,
      taskQueue,
      args: [request],
      staticSummary: `revoke ${releaseId}`,
      staticDetails: `**revoke** of release ${releaseId} by ${request.by}${request.reason ? `: ${request.reason}` : ''}`,
    });
  } catch (error) {
    // A revoke of this release is running: follow it rather than start a second one.
    if (!(error instanceof WorkflowExecutionAlreadyStartedError)) throw error;
  }
  return revokeId;
}

/** The revoke's result; a refusal (RevokeRefused, RevokeUnsupported) as RevokeRefusedError with its reason. */
export async function revokeResult(
  temporal: Client,
  releaseId: string,
  revokeId: string,
): Promise<RevokeResult> {
  try {
    return await temporal.workflow.getHandle<typeof revokeRelease>(revokeId).result();
  } catch (error) {
    const cause = error instanceof WorkflowFailedError ? error.cause : undefined;
    if (
      cause instanceof ApplicationFailure &&
      (cause.type === 'RevokeRefused' || cause.type === 'RevokeUnsupported')
    )
      throw new RevokeRefusedError(releaseId, cause.message);
    throw error;
  }
}

/** The release job's notification_email when it asked for notify: the same people hear of the revoke. */
async function notifyEmailsOf(temporal: Client, releaseId: string, codec?: PayloadCodec): Promise<string[]> {
  const history = await temporal.workflow.getHandle(releaseId).fetchHistory();
  const input = history.events?.[0]?.workflowExecutionStartedEventAttributes?.input?.payloads as
    Payload[] | undefined;
  const decoded = codec ? await codec.decode(input ?? []) : (input ?? []);
  const job = decoded[0] && defaultPayloadConverter.fromPayload<Record<string, unknown>>(decoded[0]);
  // As the release's own plan reads it (plan-release.ts).
  return job?.notify && typeof job.notification_email === 'string' && job.notification_email
    ? [job.notification_email]
    : [];
}
