import { nonRetryable, type NonRetryableFailureType } from '../common/errors.js';

/** What Resource Manager said went wrong: an HTTP refusal, or a long-running operation that ended Failed. */
export interface ArmProblem {
  /** HTTP status of the call; 0 when a long-running operation failed after being accepted. */
  status: number;
  /** ARM's error code (`AuthorizationFailed`, `QuotaExceeded`, `InvalidParameter`, …) or the status. */
  code: string;
  message: string;
}

// core-lro reports a Failed operation as a plain Error: "The long-running operation has failed. <code>. <message>".
const LRO_FAILED = /^The long-running operation has failed\. ([A-Za-z][\w.]*)\. ([\s\S]*)$/;

/**
 * The problem in an SDK failure, or undefined for one that is not ARM's answer (network).
 * Read by shape, not `instanceof RestError`: core-rest-pipeline may be installed twice.
 */
export function armProblemOf(error: unknown): ArmProblem | undefined {
  if (!(error instanceof Error)) return undefined;
  const lro = LRO_FAILED.exec(error.message);
  if (lro) return { status: 0, code: lro[1]!, message: lro[2]!.trim() };
  const e = error as Error & { statusCode?: unknown; code?: unknown };
  if (typeof e.statusCode !== 'number' || e.statusCode < 100) return undefined;
  const code = typeof e.code === 'string' && e.code ? e.code : String(e.statusCode);
  return { status: e.statusCode, code, message: e.message.split('\n')[0] ?? e.message };
}

const PERMISSION =
  /^(AuthorizationFailed|LinkedAuthorizationFailed|InvalidAuthenticationToken\w*|Forbidden)$/;
const QUOTA = /Quota|SkuNotAvailable|AllocationFailed|ZonalAllocationFailed|OverconstrainedAllocationRequest/;
/** Conflicts with another operation on the same resource, and Azure's own faults: a later attempt gets past them. */
const TRANSIENT =
  /^(AnotherOperationInProgress|OperationPreempted|RetryableError|InternalOperationError|InternalExecutionError|InternalServerError|ServiceUnavailable|GatewayTimeout|TooManyRequests)$/;

function isTransient({ status, code }: ArmProblem): boolean {
  return (
    status === 408 ||
    status === 429 ||
    status >= 500 ||
    (status === 409 && code !== 'InvalidParameter') ||
    TRANSIENT.test(code)
  );
}

/**
 * Turns an ARM failure into what a release should see. Throttling (429, which the SDK has
 * already retried with Retry-After), conflicts and 5xx stay retryable: the activity's retry
 * policy backs off. A refusal no retry fixes fails at once with Azure's code and message
 * and what to do about it.
 */
export function classifyArmError(error: unknown, action: string): unknown {
  const problem = armProblemOf(error);
  if (!problem || isTransient(problem)) return error;
  const { code, message } = problem;
  let type: NonRetryableFailureType = 'CloudInvalidRequest';
  let advice = 'fix the job or account settings named in the message';
  if (PERMISSION.test(code)) {
    type = 'CloudPermissionDenied';
    advice =
      "give the account's service principal the Contributor role on the resource groups the job names (see docs/azure.md)";
  } else if (QUOTA.test(code) || /quota/i.test(message)) {
    type = 'CloudQuotaExceeded';
    advice =
      'raise the quota in the Azure portal (Subscriptions → Usage + quotas) or choose another region or instance_type';
  } else if (code === 'ResourceGroupNotFound') {
    advice =
      'create the resource group, or name an existing one (source_resource_group, gallery_resource_group)';
  }
  return nonRetryable(type, `Azure ${action} refused: ${code}: ${message} — ${advice}`, {
    code,
    status: problem.status,
    action,
  });
}

/** Runs one ARM call and classifies its failure. */
export async function arm<T>(action: string, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    throw classifyArmError(error, action);
  }
}

/** True when ARM answered 404 for the resource itself. */
export function isArmNotFound(error: unknown): boolean {
  const problem = armProblemOf(error);
  return problem?.status === 404;
}

/** The resource, or undefined when ARM says it does not exist. */
export async function armGetOrUndefined<T>(action: string, call: () => Promise<T>): Promise<T | undefined> {
  try {
    return await call();
  } catch (error) {
    if (isArmNotFound(error) && armProblemOf(error)?.code !== 'ResourceGroupNotFound') return undefined;
    throw classifyArmError(error, action);
  }
}
