// Resource groups, as https://learn.microsoft.com/rest/api/resources/resource-groups documents
// them (create-or-update, get, check-existence, list with `$filter`, delete): PUT answers 201
// new / 200 existing and is synchronous; HEAD 204/404; DELETE 202 + `Location` (polled: 202
// until done, then 200) and removes every resource in the group, as Azure does. Left out:
// update (PATCH), export-template, `$top` paging, `forceDeletionTypes`.
import { ArmError, groupNotFound, invalidParameter, locationRequired } from './errors.js';
import { startOperation } from './operations.js';
import type { Answer, Call, GroupRecord, Json } from './state.js';

const groupId = (subscription: string, name: string) =>
  `/subscriptions/${subscription}/resourceGroups/${name}`;

export function putGroup(call: Call): Answer {
  const name = call.params['resourceGroupName'] ?? '';
  if (!/^[-\w.()]{1,90}$/u.test(name) || name.endsWith('.')) {
    throw invalidParameter(
      `Resource group '${name}' is invalid: up to 90 letters, digits, '-', '_', '.', '(' or ')', not ending in '.'.`,
    );
  }
  const location = call.body['location'];
  if (typeof location !== 'string' || !location) throw locationRequired();
  const existing = call.store.group(call.subscription, name);
  if (existing?.deleting) {
    throw new ArmError(
      409,
      'ResourceGroupBeingDeleted',
      `The resource group '${existing.name}' is in deprovisioning state and cannot perform this operation.`,
    );
  }
  if (existing && String(existing.body['location']).toLowerCase() !== location.toLowerCase()) {
    throw new ArmError(
      409,
      'InvalidResourceGroupLocation',
      `Invalid resource group location '${location}'. The Resource group already exists in location '${String(existing.body['location'])}'.`,
    );
  }
  const record: GroupRecord = existing ?? {
    subscription: call.subscription,
    name,
    body: {},
    deleting: false,
  };
  record.body = {
    id: groupId(call.subscription, record.name),
    name: record.name,
    type: 'Microsoft.Resources/resourceGroups',
    location,
    ...(call.body['tags'] ? { tags: structuredClone(call.body['tags']) } : {}),
    ...(call.body['managedBy'] ? { managedBy: call.body['managedBy'] } : {}),
    properties: { provisioningState: 'Succeeded' },
  };
  call.store.setGroup(record);
  return { status: existing ? 200 : 201, body: structuredClone(record.body) };
}

function find(call: Call): GroupRecord {
  const name = call.params['resourceGroupName'] ?? '';
  const group = call.store.group(call.subscription, name);
  if (!group) throw groupNotFound(name);
  return group;
}

export const getGroup = (call: Call): Answer => ({ status: 200, body: structuredClone(find(call).body) });

export const checkGroupExistence = (call: Call): Answer => ({
  status: call.store.group(call.subscription, call.params['resourceGroupName'] ?? '') ? 204 : 404,
});

/** `$filter`: `tagName eq 'k' and tagValue eq 'v'` or `tagName eq 'k'` (the two forms the page documents for tags). */
function tagFilter(filter: string | null): ((group: GroupRecord) => boolean) | undefined {
  if (!filter) return undefined;
  const found = /^\s*tagName\s+eq\s+'((?:[^']|'')*)'(?:\s+and\s+tagValue\s+eq\s+'((?:[^']|'')*)')?\s*$/i.exec(
    filter,
  );
  if (!found)
    throw invalidParameter(
      `The $filter '${filter}' is not supported by the fake (ours): only tagName eq '…' [and tagValue eq '…'].`,
      '$filter',
    );
  const key = found[1]!.replace(/''/g, "'").toLowerCase();
  const value = found[2]?.replace(/''/g, "'");
  return (group) => {
    // Tag names are case-insensitive in Azure, values are not.
    const tags = Object.entries((group.body['tags'] ?? {}) as Record<string, string>);
    return tags.some(([k, v]) => k.toLowerCase() === key && (value === undefined || v === value));
  };
}

export function listGroups(call: Call): Answer {
  const matches = tagFilter(call.query.get('$filter')) ?? (() => true);
  const value: Json[] = [...call.store.groups.values()]
    .filter((g) => g.subscription.toLowerCase() === call.subscription.toLowerCase() && matches(g))
    .map((g) => structuredClone(g.body));
  return { status: 200, body: { value } };
}

export function deleteGroup(call: Call): Answer {
  const group = find(call);
  group.deleting = true;
  (group.body['properties'] as Json)['provisioningState'] = 'Deleting';
  const fault = call.fault?.kind === 'operation-failed' ? call.fault : undefined;
  const op = startOperation(call.store, {
    subscription: call.subscription,
    work: () => {
      if (fault) {
        group.deleting = false;
        (group.body['properties'] as Json)['provisioningState'] = 'Succeeded';
        throw new ArmError(409, fault.code, fault.message ?? `Injected ${fault.code} for ${call.operation}`);
      }
      call.store.deleteGroup(group);
    },
  });
  // Only Location, as ARM answers for a group: core-lro then polls it (ResourceLocation mode).
  const version = encodeURIComponent(call.query.get('api-version') ?? '');
  return {
    status: 202,
    headers: {
      location: `${call.store.endpoint}${op.resultPath}?api-version=${version}`,
      'retry-after': '0',
    },
  };
}
