// Compute Engine Operations: every mutating call answers one and the change is complete
// when it is DONE. Shapes from https://cloud.google.com/compute/docs/reference/rest/v1/globalOperations
// and https://cloud.google.com/compute/docs/reference/rest/v1/zoneOperations; `wait`
// (https://cloud.google.com/compute/docs/reference/rest/v1/globalOperations/wait) blocks
// until DONE or a deadline (Google: 2 minutes; here WAIT_MS) and then answers the current
// state, DONE or not. Left out: delete, list, aggregatedList, regionOperations.
import { randomBytes } from 'node:crypto';
import { notFound, OperationFailure } from './errors.js';
import { newId, selfLink, timestamp } from './resources.js';
import type { Call, Json, OperationRecord, Store } from './state.js';

/** How long `wait` blocks: short enough for tests, long enough that clients need few calls. */
export const WAIT_MS = 2000;

export interface OperationSpec {
  project: string;
  zone?: string;
  operationType: string;
  targetLink: string;
  targetId?: string;
  /** Runs when operationMs has passed; a thrown OperationFailure ends the operation with its error. */
  complete?: () => void | Promise<void>;
  /** Ends it with this error without running `complete` (an operation-error fault). */
  failure?: OperationFailure;
}

const hex = (bytes: number) => randomBytes(bytes).toString('hex');

/** Starts an operation: PENDING now, RUNNING soon, DONE after operationMs and its work. */
export function startOperation(store: Store, spec: OperationSpec): OperationRecord {
  const scope = spec.zone ?? 'global';
  const name = `operation-${Date.now()}-${hex(7).slice(0, 13)}-${hex(4)}-${hex(4)}`;
  const base = spec.zone ? `projects/${spec.project}/zones/${spec.zone}` : `projects/${spec.project}/global`;
  const op: OperationRecord = {
    scope,
    done: false,
    waiters: new Set(),
    resource: {
      kind: 'compute#operation',
      id: newId(),
      name,
      operationType: spec.operationType,
      targetLink: spec.targetLink,
      targetId: spec.targetId,
      status: 'PENDING',
      user: 'imagecast-fake@gce-compute-fake.iam.gserviceaccount.com',
      progress: 0,
      insertTime: timestamp(),
      selfLink: selfLink(`${base}/operations/${name}`),
      ...(spec.zone ? { zone: selfLink(`projects/${spec.project}/zones/${spec.zone}`) } : {}),
    },
  };
  store.project(spec.project).operations.set(`${scope}/${name}`, op);
  const { operationMs } = store.options;
  store.schedule(Math.min(20, operationMs / 4), () => {
    if (op.done) return;
    Object.assign(op.resource, { status: 'RUNNING', startTime: timestamp() });
  });
  store.schedule(operationMs, () => {
    void finish(store, op, spec);
  });
  return op;
}

async function finish(store: Store, op: OperationRecord, spec: OperationSpec): Promise<void> {
  let failure = spec.failure;
  if (!failure) {
    try {
      await spec.complete?.();
    } catch (error) {
      failure =
        error instanceof OperationFailure ? error : new OperationFailure('INTERNAL_ERROR', String(error), 500);
    }
  }
  if (store.signal.aborted) return;
  Object.assign(op.resource, {
    status: 'DONE',
    progress: 100,
    startTime: op.resource['startTime'] ?? timestamp(),
    endTime: timestamp(),
  });
  if (failure) {
    Object.assign(op.resource, {
      error: { errors: [{ code: failure.code, message: failure.message }] },
      httpErrorStatusCode: failure.httpStatus,
      httpErrorMessage: failure.httpMessage,
    });
  }
  op.done = true;
  for (const wake of op.waiters) wake();
}

/** Resolves when `op` is DONE, after `ms`, or when the fake stops, whichever is first. */
function waitFor(store: Store, op: OperationRecord, ms: number): Promise<void> {
  if (op.done || store.signal.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    const wake = () => {
      clearTimeout(timer);
      op.waiters.delete(wake);
      store.signal.removeEventListener('abort', wake);
      resolve();
    };
    const timer = setTimeout(wake, ms);
    op.waiters.add(wake);
    store.signal.addEventListener('abort', wake);
  });
}

export const operationView = (op: OperationRecord): Json => structuredClone(op.resource);

function find(call: Call): OperationRecord {
  const scope = call.zone ?? 'global';
  const name = call.params['operation'] ?? '';
  const op = call.store.project(call.project).operations.get(`${scope}/${name}`);
  const where = call.zone ? `zones/${call.zone}` : 'global';
  if (!op) throw notFound(`projects/${call.project}/${where}/operations/${name}`);
  return op;
}

/** globalOperations.get and zoneOperations.get (…/operations/{operation}). */
export const getOperation = (call: Call): Json => operationView(find(call));

/** globalOperations.wait and zoneOperations.wait (POST …/operations/{operation}/wait). */
export async function waitOperation(call: Call): Promise<Json> {
  const op = find(call);
  await waitFor(call.store, op, WAIT_MS);
  return operationView(op);
}
