import { nonRetryable, type NonRetryableFailureType } from '../common/errors.js';

/** What Azure Storage answered: the HTTP status and its error code (`x-ms-error-code`). */
export interface AzureProblem {
  status: number;
  /** `ContainerNotFound`, `AuthorizationPermissionMismatch`, `LeaseIdMissing`, … or the status. */
  code: string;
  message: string;
}

/** Where a call went, for messages a person can act on. */
export interface AzureStorageTarget {
  account: string;
  container: string;
}

/**
 * The problem in an SDK failure, or undefined when it is not Azure's answer (a network
 * error). Read by shape, not `instanceof RestError`: core-rest-pipeline may be installed twice.
 * A HEAD request has no body, so its code is only in the header the SDK puts in `details`.
 */
export function azureProblemOf(error: unknown): AzureProblem | undefined {
  if (!(error instanceof Error)) return undefined;
  const e = error as Error & { statusCode?: unknown; code?: unknown; details?: { errorCode?: unknown } };
  if (typeof e.statusCode !== 'number' || e.statusCode < 100) return undefined;
  const code =
    (typeof e.details?.errorCode === 'string' && e.details.errorCode) ||
    (typeof e.code === 'string' && e.code) ||
    String(e.statusCode);
  // Azure's message ends in RequestId and Time lines: the first line says it.
  return { status: e.statusCode, code, message: e.message.split('\n')[0] ?? e.message };
}

/** Statuses and codes a later attempt can get past (throttling, timeouts, the service's own faults). */
function isTransient({ status, code }: AzureProblem): boolean {
  return (
    status === 408 ||
    status === 429 ||
    status >= 500 ||
    /ServerBusy|OperationTimedOut|InternalError/.test(code)
  );
}

/**
 * Turns an Azure Storage failure into what a release should see. Transient ones stay as they
 * are (the activity's retry policy backs off); a refusal no retry fixes fails at once with
 * Azure's own code and what to do about it.
 */
export function classifyAzureError(error: unknown, action: string, target: AzureStorageTarget): unknown {
  const problem = azureProblemOf(error);
  if (!problem || isTransient(problem)) return error;
  const { status, code } = problem;
  const where = `storage account ${target.account}, container ${target.container}`;
  let type: NonRetryableFailureType = 'CloudInvalidRequest';
  let advice = 'fix the job or account settings named in the message';
  if (status === 404 && code === 'ContainerNotFound') {
    advice = `create the container "${target.container}" in storage account ${target.account}, or name an existing one (source_container)`;
  } else if (status === 404) {
    // The blob went away under us (someone deleted it): a retry starts the upload over.
    return error;
  } else if (status === 401 || status === 403) {
    type = 'CloudPermissionDenied';
    advice = `grant the account's service principal "Storage Blob Data Contributor" on storage account ${target.account} (see docs/azure-upload.md)`;
  } else if (code === 'LeaseIdMissing' || code === 'LeaseIdMismatchWithBlobOperation') {
    advice =
      'the blob is leased (a disk or image may be using it): release the lease or choose another image name';
  }
  return nonRetryable(type, `Azure ${action} refused (${where}): ${code}${problem.message ? `: ${problem.message}` : ''} — ${advice}`, {
    code,
    status,
    action,
  });
}

/** Runs one Azure Storage call and classifies its failure. */
export async function azure<T>(
  action: string,
  target: AzureStorageTarget,
  call: () => Promise<T>,
): Promise<T> {
  try {
    return await call();
  } catch (error) {
    throw classifyAzureError(error, action, target);
  }
}

/** True when Azure answered 404 for the thing itself (not its container). */
export function isBlobNotFound(error: unknown): boolean {
  const problem = azureProblemOf(error);
  return problem?.status === 404 && problem.code !== 'ContainerNotFound';
}
