// Compute managed images, as https://learn.microsoft.com/rest/api/compute/images/create-or-update
// (and …/images/get, …/images/list-by-resource-group, …/images/delete) document them: an OS
// disk from a VHD page blob (`storageProfile.osDisk.blobUri`) or a managed disk/snapshot
// (`osDisk.managedDisk.id`, `osDisk.snapshot.id`: in the image's region, copied completely),
// `hyperVGeneration` V1|V2, `provisioningState` Creating → Succeeded. With a `blobExists`
// check, a blob that does not exist is refused as Azure answers such a PUT: 400
// InvalidParameter "The source blob … is not accessible." (target `disks`; seen in
// hashicorp/terraform-provider-azurerm#4427's log). update (PATCH) changes tags only. Left out: data disks'
// checks, sourceVirtualMachine capture, zone resilience.
import { copyDone, copyProgress } from './disks.js';
import { ArmError, invalidParameter, resourceNotFound } from './errors.js';
import { asyncHeaders } from './operations.js';
import { groupOf, providerPath, startProvisioning, viewOf, type ResourceKind } from './resources.js';
import { regionKey, TYPES, type Answer, type Call, type Json } from './state.js';

const OS_TYPES = ['Linux', 'Windows'];
const OS_STATES = ['Generalized', 'Specialized'];
const GENERATIONS = ['V1', 'V2'];

const oneOf = (value: unknown, allowed: string[], field: string) => {
  const found = allowed.find((a) => a.toLowerCase() === String(value).toLowerCase());
  if (!found)
    throw invalidParameter(
      `The value '${String(value)}' of parameter '${field}' is not allowed. Allowed values are '${allowed.join("', '")}'.`,
      field,
    );
  return found;
};

/** Refuses a source blob that does not exist, when the fake was given a way to look. */
export async function checkBlob(call: Call, uri: string): Promise<void> {
  const exists = call.store.options.blobExists;
  if (exists && !(await exists(uri)))
    throw invalidParameter(`The source blob ${uri} is not accessible.`, 'disks');
}

/**
 * An OS disk from a snapshot or managed disk: it must exist (404 as ARM answers), be in the
 * image's region and, when CopyStart made it, be copied completely (both refusals' wordings
 * are ours: Azure documents that the source must be in the image's region and that a
 * CopyStart snapshot is usable once its completionPercent is 100).
 */
function checkManagedSource(call: Call, osDisk: Json): void {
  for (const [field, type] of [
    ['snapshot', TYPES.snapshots],
    ['managedDisk', TYPES.disks],
  ] as const) {
    const id = (osDisk[field] as Json | undefined)?.['id'];
    if (id === undefined) continue;
    const source = typeof id === 'string' ? call.store.resource(id) : undefined;
    if (!source || source.type !== type)
      throw resourceNotFound(providerPath(String(id)), String(id).split('/')[4] ?? '');
    if (regionKey(source.body['location']) !== regionKey(call.body['location']))
      throw invalidParameter(
        `The ${field} ${String(id)} is in ${String(source.body['location'])}, but an image is made from a source in its own region, ${String(call.body['location'])} (ours).`,
        `osDisk.${field}.id`,
      );
    if (!copyDone(source))
      throw new ArmError(
        409,
        'OperationNotAllowed',
        `The ${field} ${String(id)} is still being copied (completionPercent ${copyProgress(source).percent}) or its copy failed (ours).`,
      );
  }
}

async function buildImage(call: Call): Promise<Json> {
  const properties = (call.body['properties'] ?? {}) as Json;
  const storage = properties['storageProfile'] as Json | undefined;
  const osDisk = storage?.['osDisk'] as Json | undefined;
  if (!osDisk && !properties['sourceVirtualMachine']) {
    throw invalidParameter("Required parameter 'osDisk' is missing (null).", 'storageProfile.osDisk');
  }
  if (osDisk) {
    osDisk['osType'] = oneOf(osDisk['osType'], OS_TYPES, 'osDisk.osType');
    osDisk['osState'] = oneOf(osDisk['osState'], OS_STATES, 'osDisk.osState');
    const blobUri = osDisk['blobUri'];
    if (typeof blobUri !== 'string' && !osDisk['managedDisk'] && !osDisk['snapshot']) {
      throw invalidParameter(
        'One of blobUri, managedDisk or snapshot must be given for the OS disk.',
        'osDisk.blobUri',
      );
    }
    checkManagedSource(call, osDisk);
    if (typeof blobUri === 'string') {
      // Azure takes https blob URLs only; an emulator's (Azurite: http://127.0.0.1:PORT/account/…) are let through.
      const emulated = /^http:\/\/(127\.0\.0\.1|localhost)(:\d+)?\/[^/]+\/[^/]+\/.+/.test(blobUri);
      if (!/^https:\/\/[^/]+\/[^/]+\/.+/.test(blobUri) && !emulated)
        throw invalidParameter(`The URI ${blobUri} does not look to be correct blob URI.`, 'osDisk.blobUri');
      await checkBlob(call, blobUri);
    }
  }
  if (properties['hyperVGeneration'] !== undefined) {
    properties['hyperVGeneration'] = oneOf(properties['hyperVGeneration'], GENERATIONS, 'hyperVGeneration');
  }
  return { ...properties, storageProfile: { dataDisks: [], ...storage } };
}

export const imageKind: ResourceKind = {
  type: TYPES.images,
  creating: 'Creating',
  updating: 'Updating',
  build: buildImage,
};

/**
 * images.update (PATCH, https://learn.microsoft.com/rest/api/compute/images/update): tags
 * only here, the one part a release changes (a deprecated image's mark and replacement).
 * Answered like a create: 200 with `Updating` and an async operation.
 */
export function updateImage(call: Call): Answer {
  const group = groupOf(call);
  const record = call.store.resource(call.path);
  if (!record || record.type !== TYPES.images) throw resourceNotFound(providerPath(call.path), group.name);
  if (call.body['tags'] !== undefined) record.body['tags'] = structuredClone(call.body['tags']);
  (record.body['properties'] as Json)['provisioningState'] = 'Updating';
  const op = startProvisioning(imageKind, record, call);
  return {
    status: 200,
    body: viewOf(imageKind, record, undefined, call.store),
    headers: asyncHeaders(call.store, op, call, false),
  };
}
