// What every ARM resource type shares (https://learn.microsoft.com/rest/api/resources/resources
// and https://github.com/Azure/azure-resource-manager-rpc/blob/master/v1.0/resource-api-reference.md):
// PUT creates or replaces (201 new, 200 existing) and runs async with
// `properties.provisioningState`; GET answers the resource or 404 (ResourceGroupNotFound
// before ResourceNotFound); DELETE of a missing resource is 204, of an existing one 202 +
// async; list answers `{value:[…]}` (no paging: everything fits one page here). Each type's
// module (images.ts, galleries.ts, …) supplies a ResourceKind with its validation.
import { randomUUID } from 'node:crypto';
import { ArmError, groupNotFound, locationRequired, parentNotFound, resourceNotFound } from './errors.js';
import { asyncHeaders, startOperation } from './operations.js';
import type { Answer, Call, GroupRecord, Json, ResourceRecord, Store } from './state.js';

export interface ResourceKind {
  /** `Microsoft.Compute/images`: also the path below `providers/` with the names taken out. */
  type: string;
  /** States a create/update shows while its operation runs (Compute: Creating/Updating; Network: Updating/Updating). */
  creating: string;
  updating: string;
  /** Validates the PUT body and answers the `properties` to keep (server-set fields included). */
  build(call: Call, existing: ResourceRecord | undefined): Json | Promise<Json>;
  /** Runs once the PUT's record is stored, before its operation starts (queues replication). */
  stored?(record: ResourceRecord, call: Call): void;
  /** Runs when the PUT's operation ends, before Succeeded: may assign addresses, start replication; an ArmError fails it. */
  provisioned?(record: ResourceRecord, call: Call): void | Promise<void>;
  /** How long the PUT's operation runs (default operationMs). */
  durationMs?(record: ResourceRecord, store: Store): number;
  /** Runs when its DELETE's operation has removed it (a VM lets go of its NICs). */
  deleted?(record: ResourceRecord, store: Store): void;
  /** Throws when the resource may not be deleted now (nested resources left). */
  beforeDelete?(record: ResourceRecord, store: Store): void;
  /** Top-level fields besides id/name/type/location/tags (Network's etag). */
  extra?(record: ResourceRecord): Json;
  /** What a GET answers (default: the body); `expand` is the call's `$expand`. */
  view?(record: ResourceRecord, expand: string | undefined, store: Store): Json;
}

export const groupOf = (call: Call): GroupRecord => {
  const name = call.params['resourceGroupName'] ?? '';
  const group = call.store.group(call.subscription, name);
  if (!group) throw groupNotFound(name);
  return group;
};

/** `Microsoft.Compute/galleries/g/images/i`: what ARM's not-found messages name. */
export const providerPath = (id: string) => id.replace(/^.*?\/providers\//i, '');

const lastSegment = (path: string) => path.split('/').pop() ?? '';
/** The id of the resource that contains `id` (a version's image definition), or undefined at top level. */
export function parentId(id: string): string | undefined {
  const nested = providerPath(id).split('/').length > 4;
  return nested ? id.split('/').slice(0, -2).join('/') : undefined;
}

export function viewOf(
  kind: ResourceKind,
  record: ResourceRecord,
  expand: string | undefined,
  store: Store,
): Json {
  return kind.view ? kind.view(record, expand, store) : structuredClone(record.body);
}

export function getResource(kind: ResourceKind) {
  return (call: Call): Answer => {
    const group = groupOf(call);
    const record = call.store.resource(call.path);
    if (!record || record.type !== kind.type) throw resourceNotFound(providerPath(call.path), group.name);
    return { status: 200, body: viewOf(kind, record, call.query.get('$expand') ?? undefined, call.store) };
  };
}

export function listResources(kind: ResourceKind) {
  return (call: Call): Answer => {
    groupOf(call);
    const scope = call.path.split('/').slice(0, -1).join('/');
    const parent = parentId(`${call.path}/x`);
    if (parent && !call.store.resource(parent)) throw parentNotFound(parentName(parent));
    const value = call.store.under(scope, kind.type).map((r) => viewOf(kind, r, undefined, call.store));
    return { status: 200, body: { value } };
  };
}

/** ARM's wording for a missing parent: the names of the chain (`gallery/image`). */
export const parentName = (id: string) =>
  providerPath(id)
    .split('/')
    .slice(2)
    .filter((_, i) => i % 2 === 1)
    .join('/');

export function putResource(kind: ResourceKind) {
  return async (call: Call): Promise<Answer> => {
    const group = groupOf(call);
    const parent = parentId(call.path);
    if (parent && !call.store.resource(parent)) throw parentNotFound(parentName(parent));
    const location = call.body['location'];
    if (typeof location !== 'string' || !location) throw locationRequired();
    const existing = call.store.resource(call.path);
    if (existing && existing.type !== kind.type)
      throw new ArmError(409, 'Conflict', `'${call.path}' is a ${existing.type}.`);
    const properties = await kind.build(call, existing);
    const record: ResourceRecord = existing ?? {
      id: call.path,
      type: kind.type,
      subscription: call.subscription,
      group: group.name,
      body: {},
    };
    record.body = {
      id: record.id,
      name: lastSegment(record.id),
      type: kind.type,
      location,
      ...(call.body['tags'] ? { tags: structuredClone(call.body['tags']) } : {}),
      ...kind.extra?.(record),
      properties: { ...properties, provisioningState: existing ? kind.updating : kind.creating },
    };
    call.store.setResource(record);
    kind.stored?.(record, call);
    const op = startProvisioning(kind, record, call);
    return {
      status: existing ? 200 : 201,
      body: viewOf(kind, record, undefined, call.store),
      headers: asyncHeaders(call.store, op, call, false),
    };
  };
}

const namespaceOf = (type: string) => type.split('/')[0] ?? 'Microsoft.Resources';

/** The async half of a PUT or PATCH: provisioningState Succeeded after `provisioned`, Failed on an error or fault. */
export function startProvisioning(kind: ResourceKind, record: ResourceRecord, call: Call) {
  const setState = (state: string) => {
    (record.body['properties'] as Json)['provisioningState'] = state;
  };
  const fault = call.fault?.kind === 'operation-failed' ? call.fault : undefined;
  return startOperation(call.store, {
    subscription: call.subscription,
    namespace: namespaceOf(kind.type),
    location: String(record.body['location']),
    durationMs: kind.durationMs?.(record, call.store),
    work: async () => {
      if (call.store.resource(record.id) !== record) return; // deleted meanwhile (its group, say)
      try {
        if (fault)
          throw new ArmError(
            400,
            fault.code,
            fault.message ?? `Injected ${fault.code} for ${call.operation}`,
          );
        await kind.provisioned?.(record, call);
        setState('Succeeded');
      } catch (error) {
        setState('Failed');
        throw error;
      }
    },
  });
}

export function deleteResource(kind: ResourceKind) {
  return (call: Call): Answer => {
    groupOf(call);
    const record = call.store.resource(call.path);
    if (!record || record.type !== kind.type) return { status: 204 };
    kind.beforeDelete?.(record, call.store);
    (record.body['properties'] as Json)['provisioningState'] = 'Deleting';
    const fault = call.fault?.kind === 'operation-failed' ? call.fault : undefined;
    const op = startOperation(call.store, {
      subscription: call.subscription,
      namespace: namespaceOf(kind.type),
      location: String(record.body['location']),
      work: () => {
        if (fault)
          throw new ArmError(
            400,
            fault.code,
            fault.message ?? `Injected ${fault.code} for ${call.operation}`,
          );
        call.store.deleteResource(record.id);
        kind.deleted?.(record, call.store);
      },
    });
    return { status: 202, headers: asyncHeaders(call.store, op, call, true) };
  };
}

/** Network resources' `etag`: a fresh one on every change, as the Network RP answers. */
export const networkExtra = (): Json => ({ etag: `W/"${randomUUID()}"` });
