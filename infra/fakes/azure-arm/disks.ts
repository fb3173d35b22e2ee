// Managed disks and snapshots, as https://learn.microsoft.com/rest/api/compute/disks/create-or-update
// and https://learn.microsoft.com/rest/api/compute/snapshots/create-or-update (…/get,
// …/list-by-resource-group, …/delete) document them, for what
// https://learn.microsoft.com/azure/virtual-machines/disks-copy-incremental-snapshot-across-regions
// does: a disk imported from a VHD page blob (`creationData.createOption` Import with
// `sourceUri` and `storageAccountId`), an incremental snapshot of it (Copy from
// `sourceResourceId`), and a copy of that snapshot into another region (CopyStart), whose
// background copy shows `completionPercent` rising to 100 over copyMs after the PUT's own
// operation has ended (a replication-failed fault on `snapshots.createOrUpdate` for the
// snapshot's region stops it with `copyCompletionError`). CopyStart takes an incremental
// snapshot only and makes one only ("CopyStart is only supported for creating an incremental
// snapshot from an incremental snapshot", the Azure SDK for Java's WithCopyStart docs); its
// refusal's wording (400 InvalidParameter) is ours. A missing source is 404 ResourceNotFound;
// a missing blob, as images.ts refuses it. Left out: Empty/Upload/FromImage/Restore options,
// SAS export (grantAccess), encryption, zones, sizes read from the blob, disk PATCH.
import { invalidParameter, resourceNotFound } from './errors.js';
import { checkBlob } from './images.js';
import { providerPath, type ResourceKind } from './resources.js';
import { regionKey, TYPES, type Call, type Json, type ResourceRecord } from './state.js';

type Creation = {
  createOption?: unknown;
  sourceUri?: unknown;
  storageAccountId?: unknown;
  sourceResourceId?: unknown;
};

const creationOf = (call: Call): Creation =>
  ((call.body['properties'] as Json | undefined)?.['creationData'] ?? {}) as Creation;

const optionIs = (creation: Creation, option: string) =>
  String(creation.createOption).toLowerCase() === option.toLowerCase();

/** The disk or snapshot `sourceResourceId` names, or 404 as ARM answers a missing one. */
function sourceOf(call: Call, creation: Creation, types: string[]): ResourceRecord {
  const id = creation.sourceResourceId;
  if (typeof id !== 'string' || !id)
    throw invalidParameter(
      `creationData.sourceResourceId is required when createOption is ${String(creation.createOption)}.`,
      'creationData.sourceResourceId',
    );
  const source = call.store.resource(id);
  if (!source || !types.includes(source.type))
    throw resourceNotFound(providerPath(id), id.split('/')[4] ?? '');
  return source;
}

async function importBlob(call: Call, creation: Creation): Promise<void> {
  if (typeof creation.sourceUri !== 'string' || !creation.sourceUri)
    throw invalidParameter(
      'creationData.sourceUri is required when createOption is Import.',
      'creationData.sourceUri',
    );
  if (typeof creation.storageAccountId !== 'string' || !creation.storageAccountId)
    throw invalidParameter(
      'creationData.storageAccountId is required when createOption is Import.',
      'creationData.storageAccountId',
    );
  await checkBlob(call, creation.sourceUri);
}

const refuseOption = (creation: Creation, allowed: string[]) =>
  invalidParameter(
    `createOption '${String(creation.createOption)}' is not one the fake serves here (ours): ${allowed.join(', ')}.`,
    'creationData.createOption',
  );

/** What the copy's source carries over: OS type and generation, unless the PUT says them. */
const inherited = (source: ResourceRecord | undefined): Json => {
  const p = (source?.body['properties'] ?? {}) as Json;
  return {
    ...(p['osType'] !== undefined && { osType: p['osType'] }),
    ...(p['hyperVGeneration'] !== undefined && { hyperVGeneration: p['hyperVGeneration'] }),
  };
};

async function buildDisk(call: Call): Promise<Json> {
  const properties = structuredClone((call.body['properties'] ?? {}) as Json);
  const creation = creationOf(call);
  let source: ResourceRecord | undefined;
  if (optionIs(creation, 'Import')) await importBlob(call, creation);
  else if (optionIs(creation, 'Copy')) source = sourceOf(call, creation, [TYPES.disks, TYPES.snapshots]);
  else throw refuseOption(creation, ['Import', 'Copy']);
  return {
    ...inherited(source),
    ...properties,
    diskState: 'Unattached',
    timeCreated: new Date().toISOString(),
  };
}

async function buildSnapshot(call: Call): Promise<Json> {
  const properties = structuredClone((call.body['properties'] ?? {}) as Json);
  const creation = creationOf(call);
  let source: ResourceRecord | undefined;
  if (optionIs(creation, 'Import')) await importBlob(call, creation);
  else if (optionIs(creation, 'Copy')) source = sourceOf(call, creation, [TYPES.disks, TYPES.snapshots]);
  else if (optionIs(creation, 'CopyStart')) {
    source = sourceOf(call, creation, [TYPES.snapshots]);
    const sourceIncremental = (source.body['properties'] as Json)['incremental'] === true;
    if (!sourceIncremental || properties['incremental'] !== true)
      throw invalidParameter(
        'CopyStart is supported only for an incremental snapshot (incremental: true) copied from an incremental snapshot (ours).',
        'creationData.createOption',
      );
  } else throw refuseOption(creation, ['Import', 'Copy', 'CopyStart']);
  return {
    ...inherited(source),
    ...properties,
    incremental: properties['incremental'] === true,
    diskState: 'Unattached',
    timeCreated: new Date().toISOString(),
  };
}

export const diskKind: ResourceKind = {
  type: TYPES.disks,
  creating: 'Creating',
  updating: 'Updating',
  build: buildDisk,
};

/** A CopyStart snapshot's background copy: from the PUT on, done copyMs later unless it fails. */
function startCopy(record: ResourceRecord, call: Call): void {
  const creation = creationOf(call);
  if (!optionIs(creation, 'CopyStart')) {
    delete record.copy;
    return;
  }
  const failing =
    call.fault?.kind === 'replication-failed' &&
    regionKey(call.fault.region) === regionKey(record.body['location'])
      ? call.fault
      : undefined;
  const startAt = Date.now();
  record.copy = {
    region: String(record.body['location']),
    startAt,
    doneAt: startAt + call.store.options.copyMs,
    ...(failing && { failure: failing.message ?? 'The source of the copy could not be read.' }),
  };
}

/** How far a CopyStart copy is: 100 when done; a failed one stops halfway with its error. */
export function copyProgress(record: ResourceRecord, now = Date.now()): { percent: number; error?: string } {
  const copy = record.copy;
  if (!copy) return { percent: 100 };
  const span = Math.max(1, copy.doneAt - copy.startAt);
  const percent = Math.min(100, Math.floor(((now - copy.startAt) / span) * 100));
  if (copy.failure && percent >= 50) return { percent: 50, error: copy.failure };
  return { percent };
}

export const snapshotKind: ResourceKind = {
  type: TYPES.snapshots,
  creating: 'Creating',
  updating: 'Updating',
  build: buildSnapshot,
  stored: startCopy,
  view: (record) => {
    const body = structuredClone(record.body);
    if (!record.copy) return body;
    const progress = copyProgress(record);
    const properties = body['properties'] as Json;
    properties['completionPercent'] = progress.percent;
    if (progress.error)
      properties['copyCompletionError'] = { errorCode: 'CopySourceNotFound', errorMessage: progress.error };
    return body;
  },
};

/** A snapshot's copy is readable (an image may be made from it) once done. */
export const copyDone = (record: ResourceRecord) => {
  const progress = copyProgress(record);
  return progress.percent >= 100 && !progress.error;
};
