// Azure Compute Galleries and their image definitions, as documented at
// https://learn.microsoft.com/rest/api/compute/galleries/create-or-update (…/get, …/delete),
// https://learn.microsoft.com/rest/api/compute/gallery-sharing-profile/update (POST …/share:
// Add/Remove subscriptions or tenants, Reset, EnableCommunity; reflected in the gallery's
// `sharingProfile`), and https://learn.microsoft.com/rest/api/compute/gallery-images/create-or-update
// (…/get, …/list-by-gallery, …/delete), and https://learn.microsoft.com/rest/api/compute/galleries/update
// (PATCH: description, tags, sharingProfile.permissions, 200 + Azure-AsyncOperation). A gallery
// or definition that still holds nested resources refuses DELETE with 409 CannotDeleteResource.
// Left out: `$select=Permissions` (groups are always shown), soft delete, community-gallery
// publishing checks beyond the publisher information EnableCommunity needs.
import { ArmError, invalidParameter, nestedResourcesExist, resourceNotFound } from './errors.js';
import { asyncHeaders, startOperation } from './operations.js';
import { groupOf, providerPath, startProvisioning, viewOf, type ResourceKind } from './resources.js';
import { TYPES, type Answer, type Call, type Json, type ResourceRecord, type Store } from './state.js';

const refuseWhileNested = (type: string) => (record: ResourceRecord, store: Store) => {
  if (store.under(record.id, type).length > 0) throw nestedResourcesExist();
};

function buildGallery(call: Call, existing: ResourceRecord | undefined): Json {
  const name = call.path.split('/').pop() ?? '';
  if (!/^[A-Za-z0-9][A-Za-z0-9._]{0,79}$/.test(name)) {
    throw invalidParameter(
      `The gallery name '${name}' is invalid: letters, digits, '.' and '_' only, up to 80 characters.`,
      'galleryName',
    );
  }
  const properties = { ...((call.body['properties'] ?? {}) as Json) };
  const kept = (existing?.body['properties'] as Json | undefined)?.['sharingProfile'] as Json | undefined;
  const asked = (properties['sharingProfile'] ?? {}) as Json;
  properties['sharingProfile'] = { permissions: 'Private', groups: [], ...kept, ...asked };
  properties['identifier'] = { uniqueName: `${call.subscription}-${name.toUpperCase()}` };
  return properties;
}

export const galleryKind: ResourceKind = {
  type: TYPES.galleries,
  creating: 'Creating',
  updating: 'Updating',
  build: buildGallery,
  beforeDelete: refuseWhileNested(TYPES.galleryImages),
};

const PERMISSIONS = ['Private', 'Groups', 'Community'];

/**
 * PATCH …/galleries/{g}: what galleries.update may change. Azure refuses to make a gallery
 * Community without the publisher information a community gallery shows its users.
 */
export function updateGallery(call: Call): Answer {
  const group = groupOf(call);
  const record = call.store.resource(call.path);
  if (!record || record.type !== TYPES.galleries) throw resourceNotFound(providerPath(call.path), group.name);
  const properties = record.body['properties'] as Json;
  const asked = (call.body['properties'] ?? {}) as Json;
  if (call.body['tags'] !== undefined) record.body['tags'] = structuredClone(call.body['tags']);
  if (typeof asked['description'] === 'string') properties['description'] = asked['description'];
  const sharing = asked['sharingProfile'] as Json | undefined;
  if (sharing?.['permissions'] !== undefined) {
    const permissions = PERMISSIONS.find(
      (p) => p.toLowerCase() === String(sharing['permissions']).toLowerCase(),
    );
    if (!permissions)
      throw invalidParameter(
        `The value '${String(sharing['permissions'])}' of parameter 'permissions' is not allowed.`,
        'sharingProfile.permissions',
      );
    const info = {
      ...((properties['sharingProfile'] as Json)['communityGalleryInfo'] ?? {}),
      ...((sharing['communityGalleryInfo'] ?? {}) as Json),
    } as Json;
    if (
      permissions === 'Community' &&
      ['publisherUri', 'publisherContact', 'eula', 'publicNamePrefix'].some((k) => !info[k])
    )
      throw invalidParameter(
        'Community gallery requires publisherUri, publisherContact, eula and publicNamePrefix in communityGalleryInfo.',
        'sharingProfile.communityGalleryInfo',
      );
    Object.assign(properties['sharingProfile'] as Json, {
      permissions,
      ...(permissions === 'Community' && { communityGalleryInfo: info }),
    });
  }
  properties['provisioningState'] = 'Updating';
  const op = startProvisioning(galleryKind, record, call);
  return {
    status: 200,
    body: viewOf(galleryKind, record, undefined, call.store),
    headers: asyncHeaders(call.store, op, call, false),
  };
}

type Group = { type: string; ids: string[] };

/** Applies a SharingUpdate to a gallery's sharingProfile (Azure keeps one entry per group type). */
function applySharing(profile: Json, operationType: string, groups: Group[]): void {
  const current = ((profile['groups'] ?? []) as Group[]).map((g) => ({ type: g.type, ids: [...g.ids] }));
  if (operationType === 'Reset') {
    Object.assign(profile, { permissions: 'Private', groups: [] });
    return;
  }
  if (operationType === 'EnableCommunity') {
    profile['permissions'] = 'Community';
    profile['communityGalleryInfo'] = {
      ...((profile['communityGalleryInfo'] ?? {}) as Json),
      communityGalleryEnabled: true,
    };
    return;
  }
  for (const group of groups) {
    let entry = current.find((g) => g.type.toLowerCase() === group.type.toLowerCase());
    if (!entry) current.push((entry = { type: group.type, ids: [] }));
    const ids = new Set(entry.ids.map((id) => id.toLowerCase()));
    if (operationType === 'Add') entry.ids.push(...group.ids.filter((id) => !ids.has(id.toLowerCase())));
    else entry.ids = entry.ids.filter((id) => !group.ids.some((r) => r.toLowerCase() === id.toLowerCase()));
  }
  profile['groups'] = current.filter((g) => g.ids.length > 0);
}

/** POST …/galleries/{g}/share: 202 + Azure-AsyncOperation + Location; the Location answers the SharingUpdate. */
export function shareGallery(call: Call): Answer {
  const group = groupOf(call);
  const galleryId = call.path.replace(/\/share$/i, '');
  const gallery = call.store.resource(galleryId);
  if (!gallery || gallery.type !== TYPES.galleries)
    throw resourceNotFound(`Microsoft.Compute/galleries/${call.params['galleryName']}`, group.name);
  const operationType = ['Add', 'Remove', 'Reset', 'EnableCommunity'].find(
    (t) => t.toLowerCase() === String(call.body['operationType']).toLowerCase(),
  );
  if (!operationType)
    throw invalidParameter(
      `The value '${String(call.body['operationType'])}' of parameter 'operationType' is not allowed.`,
      'operationType',
    );
  const groups = (call.body['groups'] ?? []) as Group[];
  for (const g of groups) {
    if (!['Subscriptions', 'AADTenants'].includes(g.type))
      throw invalidParameter(`The sharing group type '${g.type}' is not allowed.`, 'groups.type');
  }
  const profile = (gallery.body['properties'] as Json)['sharingProfile'] as Json;
  if ((operationType === 'Add' || operationType === 'Remove') && profile['permissions'] !== 'Groups') {
    // Ours wording: Azure shares with groups only a gallery created with permissions 'Groups'.
    throw new ArmError(
      409,
      'OperationNotAllowed',
      `Gallery '${String(gallery.body['name'])}' has sharing permissions '${String(profile['permissions'])}'; sharing with groups needs 'Groups'.`,
    );
  }
  const fault = call.fault?.kind === 'operation-failed' ? call.fault : undefined;
  const op = startOperation(call.store, {
    subscription: call.subscription,
    namespace: 'Microsoft.Compute',
    location: String(gallery.body['location']),
    work: () => {
      if (fault)
        throw new ArmError(400, fault.code, fault.message ?? `Injected ${fault.code} for ${call.operation}`);
      applySharing(profile, operationType, groups);
    },
    result: () => ({ operationType, groups: structuredClone(groups) }),
  });
  return { status: 202, headers: asyncHeaders(call.store, op, call, true) };
}

const IMMUTABLE = ['osType', 'osState', 'hyperVGeneration', 'identifier', 'architecture'];

function buildDefinition(call: Call, existing: ResourceRecord | undefined): Json {
  const properties = { ...((call.body['properties'] ?? {}) as Json) };
  const identifier = properties['identifier'] as Json | undefined;
  for (const field of ['publisher', 'offer', 'sku']) {
    if (typeof identifier?.[field] !== 'string' || !identifier[field]) {
      throw invalidParameter(
        `Required parameter 'identifier.${field}' is missing (null).`,
        `properties.identifier.${field}`,
      );
    }
  }
  if (!['Linux', 'Windows'].includes(String(properties['osType'])))
    throw invalidParameter("Required parameter 'osType' is missing or invalid.", 'properties.osType');
  if (!['Generalized', 'Specialized'].includes(String(properties['osState'])))
    throw invalidParameter("Required parameter 'osState' is missing or invalid.", 'properties.osState');
  properties['hyperVGeneration'] ??= 'V1';
  properties['architecture'] ??= 'x64';
  if (!['V1', 'V2'].includes(String(properties['hyperVGeneration'])))
    throw invalidParameter('hyperVGeneration must be V1 or V2.', 'properties.hyperVGeneration');
  if (!['x64', 'Arm64'].includes(String(properties['architecture'])))
    throw invalidParameter('architecture must be x64 or Arm64.', 'properties.architecture');
  const before = existing?.body['properties'] as Json | undefined;
  for (const field of IMMUTABLE) {
    if (before && JSON.stringify(before[field]) !== JSON.stringify(properties[field])) {
      throw new ArmError(
        409,
        'PropertyChangeNotAllowed',
        `Changing property 'galleryImage.properties.${field}' is not allowed.`,
        `galleryImage.properties.${field}`,
      );
    }
  }
  return properties;
}

export const galleryImageKind: ResourceKind = {
  type: TYPES.galleryImages,
  creating: 'Creating',
  updating: 'Updating',
  build: buildDefinition,
  beforeDelete: refuseWhileNested(TYPES.galleryImageVersions),
};
