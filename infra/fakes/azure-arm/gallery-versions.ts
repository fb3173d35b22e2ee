// Gallery image versions, as documented at https://learn.microsoft.com/rest/api/compute/gallery-image-versions/create-or-update
// (…/update, …/get with `$expand=ReplicationStatus`, …/list-by-gallery-image, …/delete): a
// version from a managed image (`storageProfile.source.id`) or a VHD blob
// (`storageProfile.osDiskImage.source.uri`), published to `publishingProfile.targetRegions`.
// Replication runs one region after another, replicationMs each: a region waiting its turn
// is `Unknown`, then `Replicating` (progress 0–99), then `Completed` (or `Failed` with
// `details`, from a replication-failed fault). The PUT/PATCH operation ends when every
// region is done, as the review of the Gallery swagger (Azure/azure-rest-api-specs#3080) says
// it does; a failed region fails it with the message `az sig image-version update` printed
// in Azure/azure-cli#15539 (the code, ReplicationJobsFailed, is ours). A PATCH that adds
// regions replicates only those; one that changes endOfLifeDate/excludeFromLatest changes only
// those (a null removes the property, RFC 7396: how revoke's restore clears an end of life).
// Left out: data disk images, encryption, replication modes, safety-profile checks.
import { ArmError, invalidParameter, resourceNotFound } from './errors.js';
import { checkBlob } from './images.js';
import { asyncHeaders } from './operations.js';
import { groupOf, providerPath, startProvisioning, viewOf, type ResourceKind } from './resources.js';
import {
  regionKey,
  TYPES,
  type Answer,
  type Call,
  type Json,
  type RegionReplication,
  type ResourceRecord,
  type Store,
} from './state.js';

type TargetRegion = { name: string; regionalReplicaCount?: number; storageAccountType?: string };

/** Queues replication for `regions` after whatever is still replicating, one after another. */
function queueReplication(record: ResourceRecord, regions: string[], store: Store, call: Call): void {
  const failing = call.fault?.kind === 'replication-failed' ? call.fault : undefined;
  const list = (record.replication ??= []);
  let start = Math.max(Date.now(), ...list.map((r) => r.doneAt));
  for (const region of regions) {
    const entry: RegionReplication = { region, startAt: start, doneAt: start + store.options.replicationMs };
    if (failing && regionKey(failing.region) === regionKey(region))
      entry.failure = failing.message ?? 'Failed with internal server error.';
    list.push(entry);
    start = entry.doneAt;
  }
}

function regionState(r: RegionReplication, now: number): Json {
  if (now < r.startAt) return { region: r.region, state: 'Unknown', details: '', progress: 0 };
  if (now < r.doneAt) {
    const progress = Math.min(99, Math.floor(((now - r.startAt) / (r.doneAt - r.startAt)) * 100));
    return { region: r.region, state: 'Replicating', details: '', progress };
  }
  return r.failure
    ? { region: r.region, state: 'Failed', details: r.failure, progress: 100 }
    : { region: r.region, state: 'Completed', details: '', progress: 100 };
}

export function replicationStatus(record: ResourceRecord): Json {
  const now = Date.now();
  const summary = (record.replication ?? []).map((r) => regionState(r, now));
  const states = new Set(summary.map((s) => s['state']));
  const aggregatedState = states.has('Failed')
    ? 'Failed'
    : [...states].every((s) => s === 'Completed')
      ? 'Completed'
      : [...states].every((s) => s === 'Unknown')
        ? 'Unknown'
        : 'InProgress';
  return { aggregatedState, summary };
}

/** The regions replicated (Completed) so far: where a VM may boot from this version. */
export const replicatedRegions = (record: ResourceRecord): string[] =>
  (record.replication ?? [])
    .filter((r) => Date.now() >= r.doneAt && !r.failure)
    .map((r) => regionKey(r.region));

async function checkSource(call: Call, storage: Json | undefined): Promise<void> {
  const sourceId = (storage?.['source'] as Json | undefined)?.['id'];
  const uri = ((storage?.['osDiskImage'] as Json | undefined)?.['source'] as Json | undefined)?.['uri'];
  if (typeof sourceId === 'string') {
    const image = call.store.resource(sourceId);
    if (!image) throw resourceNotFound(providerPath(sourceId), sourceId.split('/')[4] ?? '');
    return;
  }
  if (typeof uri === 'string') return checkBlob(call, uri);
  throw invalidParameter(
    'The gallery image version needs a source: storageProfile.source.id or storageProfile.osDiskImage.source.uri.',
    'properties.storageProfile',
  );
}

function targetRegions(profile: Json, location: string): TargetRegion[] {
  const given = (profile['targetRegions'] ?? [{ name: location }]) as TargetRegion[];
  const replicaCount = Number(profile['replicaCount'] ?? 1);
  return given.map((r) => ({
    ...r,
    regionalReplicaCount: r.regionalReplicaCount ?? replicaCount,
    storageAccountType: r.storageAccountType ?? 'Standard_LRS',
  }));
}

async function buildVersion(call: Call): Promise<Json> {
  const name = call.path.split('/').pop() ?? '';
  if (!/^\d{1,10}\.\d{1,10}\.\d{1,10}$/.test(name)) {
    throw invalidParameter(
      `The gallery image version name '${name}' is invalid: it must be Major(int32).Minor(int32).Patch(int32).`,
      'galleryImageVersionName',
    );
  }
  const properties = structuredClone((call.body['properties'] ?? {}) as Json);
  await checkSource(call, properties['storageProfile'] as Json | undefined);
  const profile = { ...((properties['publishingProfile'] ?? {}) as Json) };
  profile['targetRegions'] = targetRegions(profile, String(call.body['location']));
  profile['replicaCount'] ??= 1;
  profile['excludeFromLatest'] ??= false;
  profile['storageAccountType'] ??= 'Standard_LRS';
  profile['publishedDate'] = new Date().toISOString();
  return { ...properties, publishingProfile: profile };
}

const lastDone = (record: ResourceRecord) => Math.max(0, ...(record.replication ?? []).map((r) => r.doneAt));

function failIfReplicationFailed(record: ResourceRecord): void {
  const failed = (record.replication ?? []).filter((r) => r.failure);
  if (failed.length === 0) return;
  const details = failed.map((r) => `{region:${regionKey(r.region)}, detail:${r.failure}}`).join(', ');
  throw new ArmError(
    409,
    'ReplicationJobsFailed',
    `Gallery replication jobs failed in one or more regions. The failing regions' details are as follows: '${details}'. If retry does not work, then please do an update by removing the failed regions and update again by adding them back.`,
  );
}

export const galleryImageVersionKind: ResourceKind = {
  type: TYPES.galleryImageVersions,
  creating: 'Creating',
  updating: 'Updating',
  build: buildVersion,
  // A replace starts replication afresh in every target region, as a new version would.
  stored: (record, call) => {
    record.replication = [];
    const regions = ((record.body['properties'] as Json)['publishingProfile'] as Json)[
      'targetRegions'
    ] as TargetRegion[];
    queueReplication(
      record,
      regions.map((r) => r.name),
      call.store,
      call,
    );
  },
  durationMs: (record, store) => Math.max(store.options.operationMs, lastDone(record) - Date.now()),
  provisioned: (record) => failIfReplicationFailed(record),
  view: (record, expand) => {
    const body = structuredClone(record.body);
    if (expand?.toLowerCase() === 'replicationstatus')
      (body['properties'] as Json)['replicationStatus'] = replicationStatus(record);
    return body;
  },
};

/** PATCH …/versions/{v} (gallery-image-versions/update): merges what the body gives, replicates only new regions. */
export function updateVersion(call: Call): Answer {
  const group = groupOf(call);
  const record = call.store.resource(call.path);
  if (!record || record.type !== TYPES.galleryImageVersions)
    throw resourceNotFound(providerPath(call.path), group.name);
  const properties = record.body['properties'] as Json;
  if (properties['provisioningState'] === 'Creating' || properties['provisioningState'] === 'Updating') {
    // Ours wording; ARM refuses a change while the previous one still runs.
    throw new ArmError(
      409,
      'OperationNotAllowed',
      `The gallery image version '${String(record.body['name'])}' is ${String(properties['provisioningState'])}; retry once that operation has ended.`,
    );
  }
  const asked = (call.body['properties'] ?? {}) as Json;
  const profile = properties['publishingProfile'] as Json;
  const change = (asked['publishingProfile'] ?? {}) as Json;
  for (const field of ['endOfLifeDate', 'excludeFromLatest', 'replicaCount', 'storageAccountType']) {
    // null removes the property, as a JSON merge patch (RFC 7396) says: an end of life cleared.
    if (change[field] === null) delete profile[field];
    else if (change[field] !== undefined) profile[field] = change[field];
  }
  if (change['targetRegions'] !== undefined) {
    const next = targetRegions({ ...profile, ...change }, String(record.body['location']));
    const before = new Set((profile['targetRegions'] as TargetRegion[]).map((r) => regionKey(r.name)));
    const after = new Set(next.map((r) => regionKey(r.name)));
    record.replication = (record.replication ?? []).filter((r) => after.has(regionKey(r.region)));
    queueReplication(
      record,
      next.filter((r) => !before.has(regionKey(r.name))).map((r) => r.name),
      call.store,
      call,
    );
    profile['targetRegions'] = next;
  }
  if (asked['safetyProfile'] !== undefined)
    properties['safetyProfile'] = {
      ...((properties['safetyProfile'] ?? {}) as Json),
      ...(asked['safetyProfile'] as Json),
    };
  if (call.body['tags'] !== undefined) record.body['tags'] = structuredClone(call.body['tags']);
  properties['provisioningState'] = 'Updating';
  const op = startProvisioning(galleryImageVersionKind, record, call);
  return {
    status: 200,
    body: viewOf(galleryImageVersionKind, record, undefined, call.store),
    headers: asyncHeaders(call.store, op, call, false),
  };
}
