// Virtual machines, as documented at https://learn.microsoft.com/rest/api/compute/virtual-machines/create-or-update
// (…/get with `$expand=instanceView`, …/instance-view, …/restart, …/delete, …/list): the fake
// boots nothing, it checks what Azure checks before it would. `storageProfile.imageReference.id`
// must name a managed image in the VM's region (else 404 NotFound "The Image '…' cannot be
// found in '…' region.") or a gallery image version (or definition: its latest version)
// replicated there (else 404 GalleryImageNotFound, the wording of pulumi/pulumi-aws#5129's
// log); a marketplace reference (publisher/offer/sku, no id) is taken as is. Each NIC must
// exist (400 InvalidResourceReference) and belong to no other VM (400 NicInUse).
// `adminPassword` is never answered back, as Azure. Left out: extensions, data disks,
// availability sets/zones, deallocate/start/powerOff, VM sizes, patching.
import { randomUUID } from 'node:crypto';
import { ArmError, invalidParameter, invalidReference, resourceNotFound } from './errors.js';
import { replicatedRegions } from './gallery-versions.js';
import { asyncHeaders, startOperation } from './operations.js';
import { groupOf, parentId, providerPath, type ResourceKind } from './resources.js';
import {
  regionKey,
  TYPES,
  type Answer,
  type Call,
  type Json,
  type ResourceRecord,
  type Store,
} from './state.js';

const compareVersions = (a: string, b: string) => {
  const [x, y] = [a.split('.').map(Number), b.split('.').map(Number)];
  for (let i = 0; i < 3; i++) if ((x[i] ?? 0) !== (y[i] ?? 0)) return (x[i] ?? 0) - (y[i] ?? 0);
  return 0;
};

/** The image record a VM boots from, or the error Azure answers for its reference. */
function resolveImage(store: Store, id: string, location: string): ResourceRecord {
  const galleryMissing = () =>
    new ArmError(
      404,
      'GalleryImageNotFound',
      `The gallery image ${id} is not available in ${regionKey(location)} region. Please contact image owner to replicate to this region, or change your requested region.`,
    );
  const found = store.resource(id);
  if (found?.type === TYPES.images) {
    if (regionKey(found.body['location']) !== regionKey(location))
      throw new ArmError(
        404,
        'NotFound',
        `The Image '${id}' cannot be found in '${regionKey(location)}' region.`,
      );
    return found;
  }
  if (found?.type === TYPES.galleryImageVersions) {
    if (!replicatedRegions(found).includes(regionKey(location))) throw galleryMissing();
    return found;
  }
  if (found?.type === TYPES.galleryImages) {
    const latest = store
      .under(found.id, TYPES.galleryImageVersions)
      .filter(
        (v) =>
          !((v.body['properties'] as Json)['publishingProfile'] as Json)['excludeFromLatest'] &&
          replicatedRegions(v).includes(regionKey(location)),
      )
      .sort((a, b) => compareVersions(String(b.body['name']), String(a.body['name'])))[0];
    if (!latest) throw galleryMissing();
    return latest;
  }
  if (/\/galleries\//i.test(id)) throw galleryMissing();
  throw new ArmError(
    404,
    'NotFound',
    `The Image '${id}' cannot be found in '${regionKey(location)}' region.`,
  );
}

/**
 * A gallery image whose definition requires a security type (feature SecurityType
 * TrustedLaunch or ConfidentialVM) boots only in a VM of that type; a confidential VM needs a
 * confidential size and an OS disk whose guest state is encrypted
 * (https://learn.microsoft.com/azure/virtual-machines/trusted-launch-portal,
 * …/confidential-vm-overview). The wording of the refusals is ours.
 */
function checkSecurityType(store: Store, image: ResourceRecord, properties: Json): void {
  if (image.type !== TYPES.galleryImageVersions) return;
  const definition = store.resource(parentId(image.id) ?? '');
  const features = ((definition?.body['properties'] as Json | undefined)?.['features'] ?? []) as Json[];
  const required = features.find((f) => f['name'] === 'SecurityType')?.['value'];
  if (required !== 'TrustedLaunch' && required !== 'ConfidentialVM') return;
  const asked = ((properties['securityProfile'] ?? {}) as Json)['securityType'];
  if (asked !== required)
    throw invalidParameter(
      `The image requires security type '${String(required)}'; the VM asks '${String(asked ?? 'Standard')}'.`,
      'securityProfile.securityType',
    );
  if (required !== 'ConfidentialVM') return;
  const size = String(((properties['hardwareProfile'] ?? {}) as Json)['vmSize'] ?? '');
  if (!/^Standard_[DE]C\d+a[a-z]*_v[56]$/i.test(size))
    throw invalidParameter(
      `The VM size '${size}' does not support security type 'ConfidentialVM'.`,
      'hardwareProfile.vmSize',
    );
  const disk = ((((properties['storageProfile'] ?? {}) as Json)['osDisk'] ?? {}) as Json)['managedDisk'] as
    Json | undefined;
  if (!(disk?.['securityProfile'] as Json | undefined)?.['securityEncryptionType'])
    throw invalidParameter(
      "A confidential VM needs 'storageProfile.osDisk.managedDisk.securityProfile.securityEncryptionType'.",
      'storageProfile.osDisk.managedDisk.securityProfile.securityEncryptionType',
    );
}

function buildVm(call: Call, existing: ResourceRecord | undefined): Json {
  const properties = structuredClone((call.body['properties'] ?? {}) as Json);
  const location = String(call.body['location']);
  const storage = (properties['storageProfile'] ?? {}) as Json;
  const reference = (storage['imageReference'] ?? {}) as Json;
  if (typeof reference['id'] === 'string')
    checkSecurityType(call.store, resolveImage(call.store, reference['id'], location), properties);
  else if (!reference['publisher'] && !existing)
    throw invalidParameter("Required parameter 'imageReference' is missing (null).", 'imageReference');
  const nics = ((properties['networkProfile'] as Json | undefined)?.['networkInterfaces'] ?? []) as Json[];
  if (nics.length === 0)
    throw invalidParameter('At least one network interface is required.', 'networkProfile.networkInterfaces');
  for (const ref of nics) {
    const nic = call.store.resource(String(ref['id']));
    if (nic?.type !== TYPES.networkInterfaces) throw invalidReference(String(ref['id']), call.path);
    const owner = ((nic.body['properties'] as Json)['virtualMachine'] as Json | undefined)?.['id'];
    if (owner && String(owner).toLowerCase() !== call.path.toLowerCase()) {
      throw new ArmError(
        400,
        'NicInUse',
        `Network Interface ${String(ref['id'])} is used by existing resource ${String(owner)}. In order to use this network interface, you must first disassociate it.`,
      );
    }
  }
  const os = (properties['osProfile'] ?? {}) as Json;
  if (!existing && !os['adminUsername'])
    throw invalidParameter(
      "Required parameter 'osProfile.adminUsername' is missing (null).",
      'osProfile.adminUsername',
    );
  delete os['adminPassword'];
  const name = call.path.split('/').pop() ?? '';
  const osDisk = (storage['osDisk'] ?? {}) as Json;
  return {
    ...properties,
    osProfile: { computerName: name, ...os },
    storageProfile: {
      ...storage,
      osDisk: {
        name: `${name}_OsDisk_1_${randomUUID().replace(/-/g, '')}`,
        createOption: 'FromImage',
        caching: 'ReadWrite',
        ...osDisk,
      },
      dataDisks: storage['dataDisks'] ?? [],
    },
    vmId: (existing?.body['properties'] as Json | undefined)?.['vmId'] ?? randomUUID(),
    timeCreated:
      (existing?.body['properties'] as Json | undefined)?.['timeCreated'] ?? new Date().toISOString(),
  };
}

const nicsOf = (record: ResourceRecord, store: Store) =>
  ((((record.body['properties'] as Json)['networkProfile'] as Json)['networkInterfaces'] ?? []) as Json[])
    .map((ref) => store.resource(String(ref['id'])))
    .filter((nic): nic is ResourceRecord => nic !== undefined);

export function instanceView(record: ResourceRecord): Json {
  const state = String((record.body['properties'] as Json)['provisioningState']).toLowerCase();
  const power = record.power ?? 'starting';
  return {
    computerName: ((record.body['properties'] as Json)['osProfile'] as Json | undefined)?.['computerName'],
    statuses: [
      {
        code: `ProvisioningState/${state}`,
        level: 'Info',
        displayStatus: state === 'succeeded' ? 'Provisioning succeeded' : `Provisioning ${state}`,
        time: new Date().toISOString(),
      },
      { code: `PowerState/${power}`, level: 'Info', displayStatus: `VM ${power}` },
    ],
  };
}

export const virtualMachineKind: ResourceKind = {
  type: TYPES.virtualMachines,
  creating: 'Creating',
  updating: 'Updating',
  build: buildVm,
  provisioned(record, call) {
    record.power = 'running';
    for (const nic of nicsOf(record, call.store))
      (nic.body['properties'] as Json)['virtualMachine'] = { id: record.id };
  },
  deleted(record, store) {
    for (const nic of nicsOf(record, store)) delete (nic.body['properties'] as Json)['virtualMachine'];
  },
  view(record, expand) {
    const body = structuredClone(record.body);
    if (expand?.toLowerCase() === 'instanceview')
      (body['properties'] as Json)['instanceView'] = instanceView(record);
    return body;
  },
};

function findVm(call: Call): ResourceRecord {
  const group = groupOf(call);
  const vmId = call.path.replace(/\/(instanceView|restart)$/i, '');
  const record = call.store.resource(vmId);
  if (record?.type !== TYPES.virtualMachines) throw resourceNotFound(providerPath(vmId), group.name);
  return record;
}

/** GET …/virtualMachines/{vm}/instanceView. */
export const getInstanceView = (call: Call): Answer => ({ status: 200, body: instanceView(findVm(call)) });

/** POST …/virtualMachines/{vm}/restart: PowerState/starting until the operation ends, then running again. */
export function restartVm(call: Call): Answer {
  const record = findVm(call);
  if ((record.body['properties'] as Json)['provisioningState'] !== 'Succeeded') {
    throw new ArmError(
      409,
      'OperationNotAllowed',
      `Operation 'restart' is not allowed on VM '${String(record.body['name'])}' since the VM is not provisioned.`,
    );
  }
  record.power = 'starting';
  const fault = call.fault?.kind === 'operation-failed' ? call.fault : undefined;
  const op = startOperation(call.store, {
    subscription: call.subscription,
    namespace: 'Microsoft.Compute',
    location: String(record.body['location']),
    work: () => {
      record.power = 'running';
      if (fault)
        throw new ArmError(400, fault.code, fault.message ?? `Injected ${fault.code} for ${call.operation}`);
    },
  });
  return { status: 202, headers: asyncHeaders(call.store, op, call, true) };
}
