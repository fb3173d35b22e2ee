/**
 * What can go wrong between a client and Temporal, as types with names, so the CLI, the
 * gateway and CI can each answer the way their users need (exit code, HTTP status).
 */
import { isGrpcServiceError, ServiceError } from '@temporalio/client';

/** Thrown when a release of the same image line and account is already running today. */
export class ReleaseAlreadyRunningError extends Error {
  constructor(readonly releaseId: string) {
    super(
      `a release with id "${releaseId}" is already running: wait for it or cancel it (imagecast job cancel ${releaseId})`,
    );
    this.name = 'ReleaseAlreadyRunningError';
  }
}

/** No release (workflow) with this id in the namespace. */
export class UnknownReleaseError extends Error {
  override name = 'UnknownReleaseError';
  constructor(
    readonly releaseId: string,
    namespace: string,
  ) {
    super(`no release ${releaseId} in namespace "${namespace}" (imagecast job list shows the releases)`);
  }
}

/** An action (cancel, terminate, signal) asked of a release that has already ended. */
export class ReleaseEndedError extends Error {
  override name = 'ReleaseEndedError';
  constructor(
    readonly releaseId: string,
    /** Temporal's word for how it closed: COMPLETED, FAILED, CANCELLED, TERMINATED, TIMED_OUT. */
    readonly workflowStatus: string,
    /** The release's own word (succeeded, failed, cancelled), when its status was recorded. */
    readonly releaseState: string | undefined,
    action: string,
  ) {
    super(
      `release ${releaseId} already ended (${releaseState ?? workflowStatus.toLowerCase()}): nothing to ${action}` +
        (releaseState === 'failed' || releaseState === 'cancelled' ? ` (imagecast job retry ${releaseId} runs it again)` : ''),
    );
  }
}

/** The opposite: `job retry` of a release that is still running. */
export class ReleaseStillRunningError extends Error {
  override name = 'ReleaseStillRunningError';
  constructor(readonly releaseId: string) {
    super(`release ${releaseId} is still running: nothing to retry (imagecast job cancel ${releaseId} stops it)`);
  }
}

/** A decision (resume, skip, abort) that does not fit the release's state; `reason` is the release's own words. */
export class DecisionRefusedError extends Error {
  override name = 'DecisionRefusedError';
  constructor(
    readonly releaseId: string,
    readonly decision: string,
    readonly reason: string,
  ) {
    super(`release ${releaseId} refused ${decision}: ${reason}`);
  }
}

/** Temporal refused to start the workflow; `reason` is the server's own words. */
export class ReleaseStartRefusedError extends Error {
  override name = 'ReleaseStartRefusedError';
  constructor(
    readonly releaseId: string,
    readonly reason: string,
    /** The gRPC status name the server answered with (INVALID_ARGUMENT, RESOURCE_EXHAUSTED, …). */
    readonly grpcCode: string | undefined,
  ) {
    super(`Temporal refused to start release ${releaseId}: ${reason}`);
  }
}

/** `waitForRelease({ timeoutMs })` gave up before the release ended (the release goes on). */
export class WaitTimeoutError extends Error {
  override name = 'WaitTimeoutError';
  constructor(
    readonly releaseId: string,
    readonly timeoutMs: number,
    lastState: string | undefined,
  ) {
    super(
      `gave up waiting for release ${releaseId} after ${timeoutMs / 1000}s (it is ${lastState ?? 'not answering'}; it goes on: imagecast job watch ${releaseId})`,
    );
  }
}

const GRPC_CODE_NAMES: Record<number, string> = {
  3: 'INVALID_ARGUMENT',
  5: 'NOT_FOUND',
  7: 'PERMISSION_DENIED',
  8: 'RESOURCE_EXHAUSTED',
  9: 'FAILED_PRECONDITION',
  14: 'UNAVAILABLE',
  16: 'UNAUTHENTICATED',
};

/**
 * The server's reason behind the SDK's generic ServiceError ("Failed to start Workflow",
 * "Failed to query Workflow"): the gRPC status details of its cause, else the message.
 */
export function serverReason(error: unknown): { reason: string; grpcCode?: string } {
  const cause = error instanceof ServiceError ? error.cause : error;
  if (isGrpcServiceError(cause)) {
    return { reason: cause.details || cause.message, grpcCode: GRPC_CODE_NAMES[cause.code] ?? String(cause.code) };
  }
  return { reason: cause instanceof Error ? cause.message : String(cause) };
}

/** A release that cannot be revoked (unknown, still running, nothing published) or a cloud that cannot revoke; `reason` says which. */
export class RevokeRefusedError extends Error {
  override name = 'RevokeRefusedError';
  constructor(
    readonly releaseId: string,
    readonly reason: string,
  ) {
    super(`revoke of release ${releaseId} refused: ${reason}`);
  }
}
