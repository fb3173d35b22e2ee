import { ApplicationFailure } from '@temporalio/common';

/**
 * Failure types a release can end with. Non-retryable ones are problems a retry cannot fix
 * (bad input, bad image, policy); the message says what to change.
 */
export const NON_RETRYABLE_FAILURES = {
  InvalidJob: 'the job document is invalid',
  ChecksumMismatch: 'the downloaded image does not match its checksum file',
  InvalidImage: 'the image file is not what its name says (a .vhdfixed without a valid VHD footer)',
  ImageSourceNotFound: 'no build matching the job was found at download_url',
  ConditionsNotMet: 'the image did not meet the job conditions in time',
  DisallowedContent: 'the image contains a disallowed package or license',
  ImageAlreadyExists: 'an image with that name already exists',
  CloudQuotaExceeded: 'a cloud quota or limit was reached',
  CloudPermissionDenied: 'the cloud account may not do this',
  CloudInvalidRequest: 'the cloud rejected the request as invalid',
  ImageTestFailed: 'the image failed its tests',
  UnknownAccount: 'the job names an account or group that is not configured',
} as const;

export type NonRetryableFailureType = keyof typeof NON_RETRYABLE_FAILURES;

/** Throws nothing: builds the failure so callers `throw nonRetryable(...)` and TypeScript sees it. */
export function nonRetryable(
  type: NonRetryableFailureType,
  message: string,
  details?: unknown,
): ApplicationFailure {
  return ApplicationFailure.create({
    type,
    message,
    nonRetryable: true,
    details: details === undefined ? undefined : [details],
  });
}

/** A transient problem: the activity's retry policy will try again with backoff. */
export function retryable(type: string, message: string): ApplicationFailure {
  return ApplicationFailure.create({ type, message, nonRetryable: false });
}
