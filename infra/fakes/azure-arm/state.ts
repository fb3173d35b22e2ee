// The fake's memory and the read-only views tests assert on. Resources are kept as the JSON
// ARM would answer with (`{id, name, type, location, tags, properties}`), keyed by their id in
// lower case (ARM ids and resource group names are case-insensitive), plus the few private
// fields a lifecycle needs (replication per region, a VM's power state).
import type { OperationError } from './errors.js';
import type { FaultAction } from './faults.js';

export type Json = Record<string, unknown>;

export interface GroupRecord {
  subscription: string;
  /** As first created; lookups ignore case. */
  name: string;
  body: Json;
  deleting: boolean;
}

export type ReplicationState = 'Unknown' | 'Replicating' | 'Completed' | 'Failed';

export interface RegionReplication {
  region: string;
  /** Replicating from this time (ms since epoch) on, Completed (or Failed) at doneAt. */
  startAt: number;
  doneAt: number;
  failure?: string;
}

export interface ResourceRecord {
  /** As the client's path spelt it. */
  id: string;
  /** `Microsoft.Compute/images`, `Microsoft.Compute/galleries/images/versions`, … */
  type: string;
  subscription: string;
  group: string;
  body: Json;
  /** Gallery image versions: one entry per target region. */
  replication?: RegionReplication[];
  /** Snapshots made by CopyStart: the background copy into their region (`region` is theirs). */
  copy?: RegionReplication;
  /** Virtual machines: the instance view's PowerState code suffix (`running`, `starting`). */
  power?: string;
}

export type OperationStatus = 'InProgress' | 'Succeeded' | 'Failed' | 'Canceled';

/** One async operation: what its Azure-AsyncOperation (status) and Location (result) URLs answer. */
export interface OperationRecord {
  id: string;
  /** The URL path of its status resource (Azure-AsyncOperation). */
  statusPath: string;
  /** The URL path of its result (Location header), for POST and DELETE. */
  resultPath: string;
  status: OperationStatus;
  startTime: string;
  endTime?: string;
  error?: OperationError;
  /** What the Location URL answers once Succeeded (a POST's result); none answers 204/200 empty. */
  result?: Json;
}

export interface RequestRecord {
  /** The operation name (`images.createOrUpdate`), `operations.get` for polls, `unknown` for an unserved path. */
  operation: string;
  method: string;
  path: string;
  query: Record<string, string>;
  status: number;
  at: Date;
  /** The Authorization header as sent: no token is checked, but a sign-in test compares it. */
  authorization?: string;
}

export interface ResolvedOptions {
  operationMs: number;
  replicationMs: number;
  /** How long a CopyStart snapshot's background copy takes. */
  copyMs: number;
  blobExists?: (uri: string) => Promise<boolean>;
}

/** One routed API call, as handlers see it. */
export interface Call {
  operation: string;
  httpMethod: string;
  /** The path's parameters (`subscriptionId`, `resourceGroupName`, `imageName`, …), decoded. */
  params: Record<string, string>;
  subscription: string;
  /** The resource id the path names (the decoded path itself for resource routes). */
  path: string;
  query: URLSearchParams;
  body: Json;
  store: Store;
  /** An operation-failed or replication-failed fault this call met (http faults never reach handlers). */
  fault?: FaultAction;
}

/** What a handler answers; the server writes it (JSON, or nothing for HEAD/204). */
export interface Answer {
  status: number;
  body?: Json;
  headers?: Record<string, string>;
}

/** Azure region names compare without case or spaces (`East US` is `eastus`). */
export const regionKey = (name: unknown) => String(name).toLowerCase().replace(/\s+/g, '');

const groupKey = (subscription: string, name: string) => `${subscription}/${name}`.toLowerCase();

/** What handlers share: resources, operations, timers and shutdown. */
export class Store {
  readonly requests: RequestRecord[] = [];
  readonly groups = new Map<string, GroupRecord>();
  readonly resources = new Map<string, ResourceRecord>();
  readonly operations = new Map<string, OperationRecord>();
  /** `https://127.0.0.1:PORT`, set once listening: async-operation headers are absolute URLs. */
  endpoint = '';
  private readonly timers = new Set<NodeJS.Timeout>();
  private stopped = false;

  constructor(readonly options: ResolvedOptions) {}

  group(subscription: string, name: string): GroupRecord | undefined {
    return this.groups.get(groupKey(subscription, name));
  }

  setGroup(record: GroupRecord): void {
    this.groups.set(groupKey(record.subscription, record.name), record);
  }

  deleteGroup(record: GroupRecord): void {
    this.groups.delete(groupKey(record.subscription, record.name));
    for (const [key, resource] of this.resources) {
      if (groupKey(resource.subscription, resource.group) === groupKey(record.subscription, record.name))
        this.resources.delete(key);
    }
  }

  resource(id: string): ResourceRecord | undefined {
    return this.resources.get(id.toLowerCase());
  }

  setResource(record: ResourceRecord): void {
    this.resources.set(record.id.toLowerCase(), record);
  }

  deleteResource(id: string): void {
    this.resources.delete(id.toLowerCase());
  }

  /** Resources of `type` whose id starts with `prefix/` (a group's or a parent's). */
  under(prefix: string, type: string): ResourceRecord[] {
    const start = `${prefix.toLowerCase()}/`;
    return [...this.resources.values()].filter(
      (r) => r.type === type && r.id.toLowerCase().startsWith(start),
    );
  }

  /** Runs `fn` after `ms` unless the fake stops first. */
  schedule(ms: number, fn: () => void): void {
    if (this.stopped) return;
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      fn();
    }, ms);
    this.timers.add(timer);
  }

  stop(): void {
    this.stopped = true;
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
  }
}

/** Read-only views for assertions: copies as a GET would answer now, so a test cannot change the fake by accident. */
export interface ArmFakeState {
  resourceGroups(): Json[];
  images(): Json[];
  galleries(): Json[];
  galleryImages(): Json[];
  /** With `properties.replicationStatus` always (a GET shows it only with `$expand=ReplicationStatus`). */
  galleryImageVersions(): Json[];
  disks(): Json[];
  /** A CopyStart snapshot with `properties.completionPercent` (and `copyCompletionError` once failed). */
  snapshots(): Json[];
  virtualNetworks(): Json[];
  networkSecurityGroups(): Json[];
  publicIPAddresses(): Json[];
  networkInterfaces(): Json[];
  /** With `instanceView` (the answer of …/instanceView). */
  virtualMachines(): Json[];
  operations(): Json[];
  requests(operation?: string): RequestRecord[];
}

export const TYPES = {
  images: 'Microsoft.Compute/images',
  galleries: 'Microsoft.Compute/galleries',
  galleryImages: 'Microsoft.Compute/galleries/images',
  galleryImageVersions: 'Microsoft.Compute/galleries/images/versions',
  disks: 'Microsoft.Compute/disks',
  snapshots: 'Microsoft.Compute/snapshots',
  virtualMachines: 'Microsoft.Compute/virtualMachines',
  virtualNetworks: 'Microsoft.Network/virtualNetworks',
  networkSecurityGroups: 'Microsoft.Network/networkSecurityGroups',
  publicIPAddresses: 'Microsoft.Network/publicIPAddresses',
  networkInterfaces: 'Microsoft.Network/networkInterfaces',
} as const;

export function armFakeState(
  store: Store,
  view: { resource(r: ResourceRecord): Json; operation(op: OperationRecord): Json },
): ArmFakeState {
  const ofType = (type: string) => () =>
    [...store.resources.values()].filter((r) => r.type === type).map((r) => view.resource(r));
  return {
    resourceGroups: () => [...store.groups.values()].map((g) => structuredClone(g.body)),
    images: ofType(TYPES.images),
    galleries: ofType(TYPES.galleries),
    galleryImages: ofType(TYPES.galleryImages),
    galleryImageVersions: ofType(TYPES.galleryImageVersions),
    disks: ofType(TYPES.disks),
    snapshots: ofType(TYPES.snapshots),
    virtualNetworks: ofType(TYPES.virtualNetworks),
    networkSecurityGroups: ofType(TYPES.networkSecurityGroups),
    publicIPAddresses: ofType(TYPES.publicIPAddresses),
    networkInterfaces: ofType(TYPES.networkInterfaces),
    virtualMachines: ofType(TYPES.virtualMachines),
    operations: () => [...store.operations.values()].map((op) => view.operation(op)),
    requests: (operation) =>
      store.requests
        .filter((r) => operation === undefined || r.operation === operation)
        .map((r) => ({ ...r, query: { ...r.query } })),
  };
}
