import type { protos } from '@google-cloud/compute';
import { activitySignal, heartbeatIfInActivity } from '../common/activity-heartbeat.js';
import type { GceClients } from './clients.js';
import { classifyGceError, gce, OperationFailed } from './gce-errors.js';

type Operation = protos.google.cloud.compute.v1.IOperation;

/** What a mutating call of the SDK resolves to: the long-running operation and its first state. */
type Started = [{ latestResponse?: unknown; name?: string | null } | Operation, ...unknown[]];

/** The last segment of a zone URL (`…/zones/us-east1-b`) or the zone itself. */
export const lastSegment = (url: string) => url.slice(url.lastIndexOf('/') + 1);

/**
 * Runs a mutating call and waits until its operation is DONE, heartbeating. Compute accepts
 * most calls at once and reports refusals (quota, capacity, a bad image file) as the
 * operation's error: that becomes a classified failure like a refused call. `operations.wait`
 * returns after at most ~2 minutes (or, on a fake, seconds); the loop keeps waiting, so a
 * long import never fails by a clock of ours (the activity's own timeouts bound it).
 */
export async function runOperation(c: GceClients, action: string, call: () => Promise<Started>): Promise<Operation> {
  const [started] = await gce(action, call);
  let op = (('latestResponse' in started ? started.latestResponse : started) ?? {}) as Operation;
  while (op.status !== 'DONE') {
    heartbeatIfInActivity({ waitingFor: action, operation: op.name, progress: op.progress });
    activitySignal()?.throwIfAborted();
    const name = op.name!;
    [op] = op.zone
      ? await gce(`${action} (wait)`, () => c.zoneOperations.wait({ project: c.project, zone: lastSegment(op.zone!), operation: name }))
      : await gce(`${action} (wait)`, () => c.globalOperations.wait({ project: c.project, operation: name }));
  }
  const first = op.error?.errors?.[0];
  if (first) {
    throw classifyGceError(new OperationFailed(first.code ?? 'UNKNOWN', first.message ?? `${action} failed`, op.name ?? ''), action);
  }
  return op;
}
