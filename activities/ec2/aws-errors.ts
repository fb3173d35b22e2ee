import { nonRetryable, type NonRetryableFailureType } from '../common/errors.js';

/** What the AWS SDK v3 puts on a service error. */
interface AwsServiceError {
  name: string;
  message: string;
  $fault?: 'client' | 'server';
  $metadata?: { httpStatusCode?: number };
}

function isAwsError(error: unknown): error is AwsServiceError {
  return error instanceof Error && ('$fault' in error || '$metadata' in error);
}

/** The AWS error code of `error`, when it is a service error. */
export function awsErrorCode(error: unknown): string | undefined {
  return isAwsError(error) ? error.name : undefined;
}

const THROTTLING =
  /Throttl|RequestLimitExceeded|TooManyRequests|SlowDown|RequestThrottled|PriorRequestNotComplete/;
const QUOTA = /LimitExceeded|QuotaExceeded|InsufficientInstanceCapacity|ResourceLimitExceeded/;
const PERMISSION =
  /^(UnauthorizedOperation|AuthFailure|AccessDenied\w*|InvalidClientTokenId|SignatureDoesNotMatch|OptInRequired|Blocked|ExpiredToken(Exception)?|RequestExpired|InvalidAccessKeyId)$/;

/** What the operator should do about a refused request, by error code. */
function advice(code: string): string {
  if (QUOTA.test(code))
    return 'raise the quota in the Service Quotas console or remove unused images/snapshots';
  if (/^(UnauthorizedOperation|AccessDenied\w*)$/.test(code))
    return "grant the account's role/user this action (see docs/ec2.md for the IAM policy)";
  if (/^(ExpiredToken(Exception)?|RequestExpired)$/.test(code))
    // Assumed-role credentials are renewed IMAGECAST_AWS_CREDENTIALS_RENEW_BEFORE_SECONDS before they expire: AWS saw them expired anyway.
    return "the account's temporary credentials expired before the worker renewed them: check the worker's clock";
  if (/^(AuthFailure|InvalidClientTokenId|SignatureDoesNotMatch|InvalidAccessKeyId)$/.test(code))
    return "check the account's credentials (imagecast account ec2 show)";
  if (code === 'OptInRequired') return 'enable the region for this account (AWS console, Account → Regions)';
  return 'fix the job or account settings named in the message';
}

/**
 * Turns an AWS failure into the failure a release should see. Throttling, server faults and
 * network errors stay retryable (the activity's retry policy backs off); a request AWS
 * refused (bad parameter, no permission, quota) fails at once, non-retryably, with AWS's
 * own message and what to fix: retrying it would only hide the problem for an hour.
 */
export function classifyAwsError(error: unknown, action: string): unknown {
  if (!isAwsError(error)) return error; // network trouble: retry
  const code = error.name;
  const status = error.$metadata?.httpStatusCode ?? 0;
  if (THROTTLING.test(code) || error.$fault === 'server' || status >= 500) return error;
  let type: NonRetryableFailureType = 'CloudInvalidRequest';
  if (QUOTA.test(code)) type = 'CloudQuotaExceeded';
  else if (PERMISSION.test(code)) type = 'CloudPermissionDenied';
  else if (code === 'InvalidAMIName.Duplicate') type = 'ImageAlreadyExists';
  return nonRetryable(type, `EC2 ${action} refused: ${code}: ${error.message} — ${advice(code)}`, {
    code,
    action,
  });
}

/** Runs one AWS call and classifies its failure. */
export async function aws<T>(action: string, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    throw classifyAwsError(error, action);
  }
}

/** The AWS error code of a failure, raw from the SDK or already classified by `aws()`. */
export function failureAwsCode(error: unknown): string | undefined {
  const details = (error as { details?: Array<{ code?: unknown }> } | undefined)?.details;
  const classified = details?.[0]?.code;
  return awsErrorCode(error) ?? (typeof classified === 'string' ? classified : undefined);
}
