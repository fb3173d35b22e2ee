// ARM's asynchronous operations (https://learn.microsoft.com/azure/azure-resource-manager/management/async-operations):
// a PUT/PATCH/DELETE/POST that takes time answers 201/202 with an `Azure-AsyncOperation` URL
// (its status resource: `{"status":"InProgress"|"Succeeded"|"Failed"|"Canceled","error"?}`)
// and, for DELETE and POST, a `Location` URL (202 while running, then the result: 200 with
// the POST's answer or empty). Both carry `Retry-After`. The resource's own
// `properties.provisioningState` moves with it (Creating/Updating → Succeeded or Failed).
//
// Retry-After is always 0 here: @azure/core-lro 2.7 reads it per poll (`parseRetryAfter`,
// seconds × 1000) but keeps its own interval when the value is 0 (`if (intervalInMs)
// setDelay(…)`), so a caller's `updateIntervalInMs` decides how fast it polls (default 2 s).
import { randomUUID } from 'node:crypto';
import { ArmError, type OperationError } from './errors.js';
import { regionKey, type Answer, type Call, type Json, type OperationRecord, type Store } from './state.js';

export interface OperationSpec {
  subscription: string;
  /** Resource provider: `Microsoft.Compute`, `Microsoft.Network`; none for resource-group operations. */
  namespace?: string;
  location?: string;
  /** Runs at the end; an ArmError thrown ends the operation Failed with its code and message. */
  work?: () => void | Promise<void>;
  /** The POST's answer at the Location URL once Succeeded. */
  result?: () => Json | undefined;
  /** How long it stays InProgress (default: operationMs). */
  durationMs?: number;
}

const now = () => new Date().toISOString();

export function startOperation(store: Store, spec: OperationSpec): OperationRecord {
  const id = randomUUID();
  const base = spec.namespace
    ? `/subscriptions/${spec.subscription}/providers/${spec.namespace}/locations/${regionKey(spec.location ?? 'global')}`
    : `/subscriptions/${spec.subscription}`;
  const op: OperationRecord = {
    id,
    statusPath: `${base}/operations/${id}`,
    resultPath: spec.namespace ? `${base}/operationResults/${id}` : `${base}/operationresults/${id}`,
    status: 'InProgress',
    startTime: now(),
  };
  store.operations.set(id, op);
  store.schedule(spec.durationMs ?? store.options.operationMs, () => void finish(op, spec));
  return op;
}

async function finish(op: OperationRecord, spec: OperationSpec): Promise<void> {
  let failure: OperationError | undefined;
  try {
    await spec.work?.();
  } catch (error) {
    failure =
      error instanceof ArmError
        ? { code: error.code, message: error.message, ...(error.target ? { target: error.target } : {}) }
        : { code: 'InternalServerError', message: String(error) };
  }
  op.endTime = now();
  if (failure) {
    op.status = 'Failed';
    op.error = failure;
    return;
  }
  op.status = 'Succeeded';
  const result = spec.result?.();
  if (result) op.result = result;
}

/** The headers of the 201/202 that starts `op`; `withLocation` for DELETE and POST. */
export function asyncHeaders(
  store: Store,
  op: OperationRecord,
  call: Call,
  withLocation: boolean,
): Record<string, string> {
  const version = `?api-version=${encodeURIComponent(call.query.get('api-version') ?? '')}`;
  return {
    'azure-asyncoperation': `${store.endpoint}${op.statusPath}${version}`,
    ...(withLocation ? { location: `${store.endpoint}${op.resultPath}${version}` } : {}),
    'retry-after': '0',
  };
}

export function operationView(op: OperationRecord): Json {
  return {
    id: op.statusPath,
    name: op.id,
    status: op.status,
    startTime: op.startTime,
    ...(op.endTime ? { endTime: op.endTime } : {}),
    ...(op.error ? { error: { ...op.error } } : {}),
  };
}

function find(call: Call): OperationRecord {
  const op = call.store.operations.get(call.params['operationId'] ?? '');
  if (!op || op.statusPath.split('/')[2] !== call.subscription) {
    throw new ArmError(404, 'NotFound', `The operation '${call.params['operationId'] ?? ''}' was not found.`);
  }
  return op;
}

/** GET of an Azure-AsyncOperation URL. */
export const getOperationStatus = (call: Call): Answer => ({ status: 200, body: operationView(find(call)) });

/** GET of a Location URL: 202 while InProgress, the result when Succeeded, the error when Failed. */
export function getOperationResult(call: Call): Answer {
  const op = find(call);
  if (op.status === 'InProgress') {
    return {
      status: 202,
      headers: {
        location: `${call.store.endpoint}${call.path}?${call.query.toString()}`,
        'retry-after': '0',
      },
    };
  }
  if (op.status === 'Failed' && op.error)
    throw new ArmError(400, op.error.code, op.error.message, op.error.target);
  return op.result ? { status: 200, body: structuredClone(op.result) } : { status: 200 };
}
