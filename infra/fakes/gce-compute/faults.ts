// Failures a test asks for, matched by method name (`images.insert`, `instances.insert`,
// `zoneOperations.wait`, …) and optionally project and zone; each is used `times` times
// (default 1), the oldest matching one first.
import { FaultQueue } from '../fault-queue.js';

/** Answer with this HTTP error instead of acting. */
export interface HttpFault {
  kind: 'http';
  status: number;
  reason: string;
  message?: string;
}

/** Act, then destroy the socket without answering: the client sees a reset and must retry. */
export interface DropResponseFault {
  kind: 'drop-response';
}

/** Accept the call, act not, and end its Operation DONE with this error. */
export interface OperationErrorFault {
  kind: 'operation-error';
  code: string;
  message?: string;
  /** httpErrorStatusCode of the failed operation; by default the one Google uses for `code`. */
  httpStatus?: number;
}

export type FaultAction = HttpFault | DropResponseFault | OperationErrorFault;

export type FaultSpec = FaultAction & {
  method: string;
  project?: string;
  zone?: string;
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
  method: string;
  project: string;
  zone?: string;
}

export class Faults implements FaultPlan {
  private readonly queue: FaultQueue<FaultSpec>;

  /** `methods`: the names the fake serves, so a misspelt fault fails loudly instead of never firing. */
  constructor(methods: ReadonlySet<string>) {
    this.queue = new FaultQueue((fault) => {
      if (!methods.has(fault.method)) {
        throw new Error(`no method "${fault.method}" in the GCE fake (known: ${[...methods].join(', ')})`);
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
        spec.method === target.method &&
        (spec.project === undefined || spec.project === target.project) &&
        (spec.zone === undefined || spec.zone === target.zone),
    );
  }
}
