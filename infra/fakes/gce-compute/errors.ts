// Compute Engine's error shapes. Synchronous failures are HTTP errors in Google's JSON error
// format (https://cloud.google.com/compute/docs/api/how-tos/api-requests-responses#handling_api_errors,
// reasons from https://cloud.google.com/apis/design/errors and the Compute error catalog
// https://cloud.google.com/compute/docs/reference/rest/v1/errors); failures after a call was
// accepted end its Operation with `error.errors[]` instead (OperationFailure).

/** The canonical status name Google puts next to each HTTP code in `error.status`. */
const STATUS_NAMES: Record<number, string> = {
  400: 'INVALID_ARGUMENT',
  401: 'UNAUTHENTICATED',
  403: 'PERMISSION_DENIED',
  404: 'NOT_FOUND',
  409: 'ALREADY_EXISTS',
  412: 'FAILED_PRECONDITION',
  429: 'RESOURCE_EXHAUSTED',
  500: 'INTERNAL',
  503: 'UNAVAILABLE',
};

/** An HTTP error as Compute Engine answers it; thrown by handlers, written by the server. */
export class ApiError extends Error {
  override readonly name = 'ApiError';
  constructor(
    readonly status: number,
    readonly reason: string,
    message: string,
    readonly domain = 'global',
  ) {
    super(message);
  }

  toJSON() {
    return {
      error: {
        code: this.status,
        message: this.message,
        errors: [{ message: this.message, domain: this.domain, reason: this.reason }],
        status: STATUS_NAMES[this.status] ?? 'UNKNOWN',
      },
    };
  }
}

/** `resource` is the path below the API root, e.g. `projects/p/global/images/x`. */
export const notFound = (resource: string) =>
  new ApiError(404, 'notFound', `The resource '${resource}' was not found`);

export const alreadyExists = (resource: string) =>
  new ApiError(409, 'alreadyExists', `The resource '${resource}' already exists`);

/** The catalog's INVALID_FIELD_VALUE wording, as a synchronous 400. */
export const invalidField = (field: string, value: unknown, why = '') =>
  new ApiError(400, 'invalid', `Invalid value for field '${field}': '${String(value)}'. ${why}`.trim());

export const requiredField = (field: string) =>
  new ApiError(400, 'required', `Required field '${field}' not specified`);

export const notReady = (resource: string) =>
  new ApiError(400, 'resourceNotReady', `The resource '${resource}' is not ready`);

export const conditionNotMet = (message: string) => new ApiError(412, 'conditionNotMet', message);

export const quotaExceeded = (metric: string, region = 'global') =>
  new ApiError(403, 'quotaExceeded', `Quota '${metric}' exceeded. Limit: 0.0 in region ${region}.`, 'usageLimits');

/** The HTTP status text Compute puts in a failed Operation's `httpErrorMessage`. */
const HTTP_MESSAGES: Record<number, string> = {
  400: 'BAD REQUEST',
  403: 'FORBIDDEN',
  404: 'NOT FOUND',
  409: 'CONFLICT',
  412: 'PRECONDITION FAILED',
  500: 'INTERNAL SERVER ERROR',
  503: 'SERVICE UNAVAILABLE',
};

/**
 * The HTTP status Google reports for an operation error code, from its troubleshooting pages:
 * resource availability (https://cloud.google.com/compute/docs/troubleshooting/troubleshooting-resource-availability)
 * answers 503, quota (https://cloud.google.com/compute/resource-usage) 403.
 */
const CODE_STATUS: Record<string, number> = {
  ZONE_RESOURCE_POOL_EXHAUSTED: 503,
  ZONE_RESOURCE_POOL_EXHAUSTED_WITH_DETAILS: 503,
  QUOTA_EXCEEDED: 403,
  RESOURCE_NOT_FOUND: 404,
  RESOURCE_ALREADY_EXISTS: 409,
  INVALID_FIELD_VALUE: 400,
};

/** Ends an accepted call's Operation DONE with this error (the call itself answered 200). */
export class OperationFailure extends Error {
  override readonly name = 'OperationFailure';
  readonly httpStatus: number;
  constructor(
    readonly code: string,
    message: string,
    httpStatus?: number,
  ) {
    super(message);
    this.httpStatus = httpStatus ?? CODE_STATUS[code] ?? 400;
  }

  get httpMessage(): string {
    return HTTP_MESSAGES[this.httpStatus] ?? 'ERROR';
  }
}
