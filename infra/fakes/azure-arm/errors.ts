// Azure Resource Manager's error shape: every failure, synchronous or the `error` of a failed
// async operation, is `{"error":{"code","message","target"?}}`
// (https://learn.microsoft.com/azure/azure-resource-manager/management/async-operations and
// https://github.com/Azure/azure-resource-manager-rpc/blob/master/v1.0/common-api-details.md#error-response-content).
// Codes and wordings are the ones ARM answers (https://learn.microsoft.com/azure/azure-resource-manager/troubleshooting/common-deployment-errors);
// where a wording is ours, it says so.

/** An HTTP error as ARM answers it; thrown by handlers, written by the server. */
export class ArmError extends Error {
  override readonly name = 'ArmError';
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly target?: string,
    /** Seconds, for a 429/503: the SDK's throttling retry strategy waits this long. */
    readonly retryAfterSeconds?: number,
  ) {
    super(message);
  }

  toJSON() {
    return {
      error: { code: this.code, message: this.message, ...(this.target ? { target: this.target } : {}) },
    };
  }
}

export const groupNotFound = (group: string) =>
  new ArmError(404, 'ResourceGroupNotFound', `Resource group '${group}' could not be found.`);

/** `path`: the id below `providers/`, like `Microsoft.Compute/galleries/g/images/i`. */
export const resourceNotFound = (path: string, group: string) =>
  new ArmError(
    404,
    'ResourceNotFound',
    `The Resource '${path}' under resource group '${group}' was not found. For more details please go to https://aka.ms/ARMResourceNotFoundFix`,
  );

export const parentNotFound = (parent: string) =>
  new ArmError(
    404,
    'ParentResourceNotFound',
    `Can not perform requested operation on nested resource. Parent resource '${parent}' not found.`,
  );

export const invalidParameter = (message: string, target?: string) =>
  new ArmError(400, 'InvalidParameter', message, target);

export const locationRequired = () =>
  new ArmError(400, 'LocationRequired', 'The location property is required for this definition.');

/** ARM's answer to DELETE of a parent that still has nested resources (a gallery image with versions). */
export const nestedResourcesExist = () =>
  new ArmError(409, 'CannotDeleteResource', 'Can not delete resource before nested resources are deleted.');

/** Network RP's answer to a reference to an id that does not exist (NIC → subnet, public IP). */
export const invalidReference = (referenced: string, by: string) =>
  new ArmError(
    400,
    'InvalidResourceReference',
    `Resource ${referenced} referenced by resource ${by} was not found. Please make sure that the referenced resource exists, and that both resources are in the same region.`,
  );

export const routeNotFound = (path: string) =>
  new ArmError(404, 'NotFound', `The fake ARM has no route for '${path}' (ours).`);

/** The `error` of a failed async operation (Azure-AsyncOperation status `Failed`). */
export interface OperationError {
  code: string;
  message: string;
  target?: string;
}
