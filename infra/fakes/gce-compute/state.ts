// The fake's memory, per project, and the read-only views tests assert on. Resources are
// kept as the JSON Google would answer with, plus the few private fields a lifecycle needs.
import { copy } from './resources.js';

export type Json = Record<string, unknown>;

export interface OperationRecord {
  resource: Json;
  /** Key in Project.operations: `global` or the zone. */
  scope: string;
  done: boolean;
  /** Called once when it turns DONE (a blocked operations.wait). */
  waiters: Set<() => void>;
}

export interface ImageRecord {
  resource: Json;
  /** The rawDisk check passed (or there was none): the image may turn READY. */
  imported: boolean;
  /** Not READY before this time (ms since epoch), even when imported. */
  readyAt: number;
  policy: { version: number; etag: string; bindings: Json[] };
}

export interface InstanceRecord {
  resource: Json;
  /** Lines getSerialPortOutput serves, growing as the instance boots. */
  serial: string;
}

export interface Project {
  images: Map<string, ImageRecord>;
  /** Keyed `zone/name`. */
  instances: Map<string, InstanceRecord>;
  firewalls: Map<string, Json>;
  /** Keyed `global/name` or `zone/name`. */
  operations: Map<string, OperationRecord>;
  /** requestId → the operation it started (https://cloud.google.com/compute/docs/api/how-tos/api-requests-responses#idempotency). */
  requestIds: Map<string, OperationRecord>;
}

export interface RequestRecord {
  /** The API method, e.g. `images.insert`; `unknown` for a path the fake does not serve. */
  method: string;
  httpMethod: string;
  path: string;
  query: Record<string, string>;
  body: unknown;
  at: Date;
  /** The HTTP status answered, or `dropped` when a drop-response fault destroyed the socket. */
  outcome?: number | 'dropped';
  /** The Authorization header as sent (the fake checks none; tests check what the client sent). */
  authorization?: string;
}

/** Read-only views for assertions: copies, so a test cannot change the fake by accident. */
export interface FakeState {
  images(project: string): Json[];
  instances(project: string): Json[];
  firewalls(project: string): Json[];
  operations(project: string): Json[];
  requests(method?: string): RequestRecord[];
}

export interface ResolvedOptions {
  storageEndpoint?: string;
  operationMs: number;
  imageReadyMs: number;
}

/** One routed API call, as handlers see it. */
export interface Call {
  method: string;
  project: string;
  zone?: string;
  params: Record<string, string>;
  query: URLSearchParams;
  body: Json;
  store: Store;
}

/** What handlers share: the store, the clock-driven timers, and shutdown. */
export class Store {
  readonly requests: RequestRecord[] = [];
  private readonly projects = new Map<string, Project>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly aborter = new AbortController();

  constructor(readonly options: ResolvedOptions) {}

  project(id: string): Project {
    let project = this.projects.get(id);
    if (!project) {
      project = { images: new Map(), instances: new Map(), firewalls: new Map(), operations: new Map(), requestIds: new Map() };
      this.projects.set(id, project);
    }
    return project;
  }

  /** Runs `fn` after `ms` unless the fake stops first. */
  schedule(ms: number, fn: () => void): void {
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      fn();
    }, ms);
    this.timers.add(timer);
  }

  /** Aborted on stop: long work (reading a source object) ends with it. */
  get signal(): AbortSignal {
    return this.aborter.signal;
  }

  stop(): void {
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    this.aborter.abort();
  }
}

/** Builds the views; `viewOf` turns records into what a GET would answer now. */
export function fakeState(
  store: Store,
  viewOf: { image(r: ImageRecord): Json; instance(r: InstanceRecord): Json; operation(r: OperationRecord): Json },
): FakeState {
  return {
    images: (p) => [...store.project(p).images.values()].map((r) => viewOf.image(r)),
    instances: (p) => [...store.project(p).instances.values()].map((r) => viewOf.instance(r)),
    firewalls: (p) => [...store.project(p).firewalls.values()].map(copy),
    operations: (p) => [...store.project(p).operations.values()].map((r) => viewOf.operation(r)),
    requests: (method) => store.requests.filter((r) => method === undefined || r.method === method).map(copy),
  };
}
