import { nonRetryable, type NonRetryableFailureType } from '../common/errors.js';

/**
 * What Google says went wrong, from either place it says it: an HTTP error of a call (the
 * REST transport's error carries the status and Google's JSON error body), or the `error`
 * of an Operation that finished DONE (Compute reports most refusals there, after accepting
 * the call: quota, zone capacity, a bad image file).
 */
export interface GceProblem {
  /** HTTP status of the call; 0 for an operation error. */
  status: number;
  /** Google's reason (`notFound`, `alreadyExists`, `quotaExceeded`) or operation error code (`QUOTA_EXCEEDED`). */
  code: string;
  message: string;
}

interface GoogleErrorBody {
  error?: { code?: number; message?: string; errors?: Array<{ reason?: string; message?: string }>; status?: string };
}

/** The problem in an SDK failure, or undefined for a failure that is not Google's answer (network). */
export function gceProblemOf(error: unknown): GceProblem | undefined {
  if (!(error instanceof Error)) return undefined;
  const e = error as Error & {
    code?: unknown;
    status?: unknown;
    errors?: Array<{ reason?: string; message?: string }>;
    response?: { status?: number; data?: unknown };
    statusDetails?: unknown;
    /** google-gax's GoogleError (the REST transport): the HTTP status and Google's reason. */
    httpStatusCode?: unknown;
    reason?: unknown;
  };
  if (e instanceof OperationFailed) return { status: 0, code: e.code, message: e.message };
  const body = parseBody(e.response?.data);
  const status =
    (typeof e.httpStatusCode === 'number' && e.httpStatusCode) ||
    (typeof e.response?.status === 'number' && e.response.status) ||
    (typeof body?.error?.code === 'number' && body.error.code) ||
    (typeof e.code === 'number' && e.code >= 100 ? e.code : 0) ||
    (typeof e.status === 'number' && e.status >= 100 ? e.status : 0);
  if (!status) return undefined;
  const reason =
    body?.error?.errors?.[0]?.reason ??
    e.errors?.[0]?.reason ??
    (typeof e.reason === 'string' && e.reason ? e.reason : undefined) ??
    body?.error?.status ??
    String(status);
  return { status, code: reason, message: body?.error?.message ?? e.message };
}

function parseBody(data: unknown): GoogleErrorBody | undefined {
  if (typeof data === 'string') {
    try {
      return JSON.parse(data) as GoogleErrorBody;
    } catch {
      return undefined;
    }
  }
  return typeof data === 'object' && data !== null ? (data as GoogleErrorBody) : undefined;
}

/** An Operation that finished with an error: what its first error says. */
export class OperationFailed extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly operation: string,
  ) {
    super(message);
    this.name = 'OperationFailed';
  }
}

const QUOTA = /quota|QUOTA_EXCEEDED|rateLimitExceeded|limitExceeded/i;
const CAPACITY = /ZONE_RESOURCE_POOL_EXHAUSTED|resourcePoolExhausted|UNSUPPORTED_OPERATION.*capacity|STOCKOUT/i;
const PERMISSION = /^(forbidden|accessNotConfigured|insufficientPermissions|authError|PERMISSION_DENIED|403)$/;

/** Capacity in one zone ran out: try the next zone (mash's test_fallback_regions). */
export function isZoneCapacityProblem(problem: GceProblem | undefined): boolean {
  return Boolean(problem && CAPACITY.test(problem.code));
}

function advice(problem: GceProblem): string {
  if (QUOTA.test(problem.code)) return 'raise the quota (Google Cloud console → IAM & Admin → Quotas) or delete unused images';
  if (PERMISSION.test(problem.code) || problem.status === 403)
    return "grant the account's service account the role this needs (see docs/gce.md)";
  if (problem.status === 401) return "check the account's key (imagecast account gce show)";
  return 'fix the job or account settings named in the message';
}

/**
 * Turns a Google failure into what a release should see. Rate limits, 5xx and network
 * errors stay retryable (the activity's policy backs off); a refusal that a retry cannot fix
 * (quota, permission, an invalid request, an image file GCE cannot import) fails at once with
 * Google's own message and what to do: retrying would only hide it for an hour.
 */
export function classifyGceError(error: unknown, action: string): unknown {
  const problem = gceProblemOf(error);
  if (!problem) return error;
  const { status, code } = problem;
  if (status === 429 || status >= 500 || /rateLimitExceeded|backendError|internalError|INTERNAL_ERROR|RESOURCE_OPERATION_RATE_EXCEEDED|RESOURCE_NOT_READY/.test(code)) return error;
  let type: NonRetryableFailureType = 'CloudInvalidRequest';
  // The REST transport keeps Google's reason only sometimes; a 403 whose message speaks of quota is one.
  if (QUOTA.test(code) || isZoneCapacityProblem(problem) || (status === 403 && /quota/i.test(problem.message))) type = 'CloudQuotaExceeded';
  else if (status === 401 || status === 403 || PERMISSION.test(code)) type = 'CloudPermissionDenied';
  else if (code === 'alreadyExists' || status === 409) type = 'ImageAlreadyExists';
  return nonRetryable(type, `GCE ${action} refused: ${code}: ${problem.message} — ${advice(problem)}`, { code, action });
}

/** Runs one Google call and classifies its failure. */
export async function gce<T>(action: string, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    throw classifyGceError(error, action);
  }
}

/** True when the failure (raw, or classified by `gce()`) is Google's 404: the thing is not there. */
export function isNotFound(error: unknown): boolean {
  if (gceProblemOf(error)?.status === 404) return true;
  const code = failureGceCode(error);
  return code === 'notFound' || code === 'RESOURCE_NOT_FOUND' || code === '404';
}

/** Google's code of a failure, raw or already classified by `gce()`. */
export function failureGceCode(error: unknown): string | undefined {
  const details = (error as { details?: Array<{ code?: unknown }> } | undefined)?.details;
  const classified = details?.[0]?.code;
  return typeof classified === 'string' ? classified : gceProblemOf(error)?.code;
}
