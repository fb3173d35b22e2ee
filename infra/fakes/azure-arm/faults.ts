// Failures a test asks for, matched by operation name (`images.createOrUpdate`,
// `galleryImageVersions.createOrUpdate`, `virtualMachines.createOrUpdate`,
// `resourceGroups.delete`, … — the names in router.ts, after the SDK's operation groups) and
// optionally resource group (case-insensitive, as Azure) and region (the body's `location`);
// each is used `times` times (default 1), the oldest matching one first.
import { FaultQueue } from '../fault-queue.js';

/** Answer with this ARM error instead of acting; 429/503 carry Retry-After (seconds, default 0). */
export interface HttpFault {
  kind: 'http';
  status: number;
  code: string;
  message?: string;
  retryAfterSeconds?: number;
}

/** Accept the call (201/202 + Azure-AsyncOperation), act not, and end the operation Failed with this error. */
export interface OperationFailedFault {
  kind: 'operation-failed';
  code: string;
  message?: string;
}

/**
 * For gallery image versions: replication to `region` ends Failed; the other regions still
 * complete. For snapshots.createOrUpdate: a CopyStart into `region` stops with copyCompletionError.
 */
export interface ReplicationFailedFault {
  kind: 'replication-failed';
  region: string;
  message?: string;
}

export type FaultAction = HttpFault | OperationFailedFault | ReplicationFailedFault;

export type FaultSpec = FaultAction & {
  operation: string;
  resourceGroup?: string;
  /** Matches the body's `location` (http, operation-failed); ignored by replication-failed, which names its region. */
  location?: string;
  /** How many matching calls it affects; Infinity for all. */
  times?: number;
};

export interface FaultPlan {
  add(fault: FaultSpec): void;
  clear(): void;
  /** Faults not used up yet, for a test that wants to know one fired. */
  pending(): FaultSpec[];
}

export interface FaultTarget {
  operation: string;
  resourceGroup?: string;
  location?: string;
}

const sameName = (a: string | undefined, b: string | undefined) => a?.toLowerCase() === b?.toLowerCase();

export class Faults implements FaultPlan {
  private readonly queue: FaultQueue<FaultSpec>;

  /** `operations`: the names the fake serves, so a misspelt fault fails loudly instead of never firing. */
  constructor(operations: ReadonlySet<string>) {
    this.queue = new FaultQueue((fault) => {
      if (!operations.has(fault.operation)) {
        throw new Error(`no operation "${fault.operation}" in the ARM fake (known: ${[...operations].join(', ')})`);
      }
      if (
        fault.kind === 'replication-failed' &&
        !fault.operation.startsWith('galleryImageVersions.') &&
        fault.operation !== 'snapshots.createOrUpdate'
      ) {
        throw new Error(`a replication-failed fault needs a galleryImageVersions operation or snapshots.createOrUpdate (a CopyStart's copy), not "${fault.operation}"`);
      }
    });
  }

  add(fault: FaultSpec): void {
    this.queue.add(fault);
  }

  clear(): void {
    this.queue.clear();
  }

  pending(): FaultSpec[] {
    return this.queue.pending();
  }

  /** The fault this call meets, used up by one; undefined when none applies. */
  take(target: FaultTarget): FaultAction | undefined {
    return this.queue.take(
      (spec) =>
        spec.operation === target.operation &&
        (spec.resourceGroup === undefined || sameName(spec.resourceGroup, target.resourceGroup)) &&
        (spec.kind === 'replication-failed'
          ? // A version's regions are in its body's list; a copied snapshot's is its location.
            spec.operation !== 'snapshots.createOrUpdate' || sameName(spec.region, target.location)
          : spec.location === undefined || sameName(spec.location, target.location)),
    );
  }
}
