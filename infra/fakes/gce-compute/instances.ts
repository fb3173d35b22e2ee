// Zonal instances, enough to boot a test VM from a fresh image and reach it by its NAT IP.
// https://cloud.google.com/compute/docs/reference/rest/v1/instances (resource and methods).
// Lifecycle https://cloud.google.com/compute/docs/instances/instance-life-cycle: PROVISIONING
// at insert, STAGING halfway through its operation, RUNNING when it is DONE; STOPPING until a
// delete is DONE. Every external IP is 127.0.0.1, where a test puts its sshd. Left out: stop,
// start, attachDisk, setMetadata, aggregatedList, guest attributes, machine-type checks.
import { alreadyExists, invalidField, notFound, notReady, requiredField } from './errors.js';
import { paginate, parseFilter } from './filter.js';
import { imageView, resolveImage } from './images.js';
import { startOperation } from './operations.js';
import { checkLabels, checkName, compact, copy, fingerprint, newId, selfLink, timestamp } from './resources.js';
import type { Call, InstanceRecord, Json, OperationRecord } from './state.js';

const instancePath = (project: string, zone: string, name: string) => `projects/${project}/zones/${zone}/instances/${name}`;

export const instanceView = (record: InstanceRecord): Json => copy(record.resource);

function findInstance(call: Call): InstanceRecord {
  const name = call.params['instance']!;
  const record = call.store.project(call.project).instances.get(`${call.zone}/${name}`);
  if (!record) throw notFound(instancePath(call.project, call.zone!, name));
  return record;
}

function machineTypeLink(call: Call, value: unknown): string {
  const field = 'resource.machineType';
  if (!value) throw requiredField(field);
  const match = /(?:^|\/)zones\/([^/]+)\/machineTypes\/([a-z0-9-]+)$/.exec(String(value));
  if (!match) throw invalidField(field, value, 'Invalid URL; expected zones/ZONE/machineTypes/TYPE.');
  if (match[1] !== call.zone) throw invalidField(field, value, 'The machine type must be in the instance\'s zone.');
  return selfLink(`projects/${call.project}/zones/${call.zone}/machineTypes/${match[2]}`);
}

function attachedDisks(call: Call, name: string): Json[] {
  const disks = (call.body['disks'] ?? []) as Json[];
  if (disks.length === 0) throw invalidField('resource.disks', '', 'Boot disk must be specified.');
  return disks.map((disk, index) => {
    const params = (disk['initializeParams'] ?? {}) as Json;
    if (!params['sourceImage']) throw requiredField(`resource.disks[${index}].initializeParams.sourceImage`);
    const image = imageView(resolveImage(call.store, call.project, String(params['sourceImage'])));
    if (image['status'] !== 'READY') throw notReady(String(image['selfLink']).replace(/^.*\/compute\/v1\//, ''));
    const deviceName = String(disk['deviceName'] ?? params['diskName'] ?? (index === 0 ? name : `${name}-${index}`));
    return compact({
      kind: 'compute#attachedDisk',
      type: 'PERSISTENT',
      mode: 'READ_WRITE',
      source: selfLink(`projects/${call.project}/zones/${call.zone}/disks/${deviceName}`),
      deviceName,
      index,
      boot: disk['boot'] ?? index === 0,
      autoDelete: disk['autoDelete'] ?? false,
      interface: 'SCSI',
      diskSizeGb: String(params['diskSizeGb'] ?? image['diskSizeGb']),
      licenses: image['licenses'],
      guestOsFeatures: image['guestOsFeatures'],
      architecture: image['architecture'],
    });
  });
}

function networkInterfaces(call: Call): Json[] {
  const given = (call.body['networkInterfaces'] ?? []) as Json[];
  if (given.length === 0) throw invalidField('resource.networkInterfaces', '', 'At least one network interface is required.');
  return given.map((nic, index) => ({
    kind: 'compute#networkInterface',
    network: selfLink(`projects/${call.project}/global/networks/default`),
    networkIP: `10.128.0.${index + 2}`,
    name: `nic${index}`,
    accessConfigs: ((nic['accessConfigs'] ?? []) as Json[]).map((config, i) => {
      const type = config['type'] ?? 'ONE_TO_ONE_NAT';
      if (type !== 'ONE_TO_ONE_NAT') throw invalidField(`resource.networkInterfaces[${index}].accessConfigs[${i}].type`, type);
      return { kind: 'compute#accessConfig', type, name: config['name'] ?? 'External NAT', natIP: '127.0.0.1', networkTier: 'PREMIUM' };
    }),
    fingerprint: fingerprint([index, nic]),
    stackType: 'IPV4_ONLY',
  }));
}

function metadata(call: Call): Json {
  const items = ((call.body['metadata'] as Json | undefined)?.['items'] ?? []) as Json[];
  for (const item of items) {
    if (!/^[a-zA-Z0-9_-]{1,128}$/.test(String(item['key']))) throw invalidField('resource.metadata.items.key', item['key']);
  }
  const copied = items.map((i) => ({ key: String(i['key']), value: String(i['value'] ?? '') }));
  return compact({ kind: 'compute#metadata', fingerprint: fingerprint(copied), items: copied.length > 0 ? copied : undefined });
}

const bootLog = (name: string) =>
  [
    'SeaBIOS (version 1.8.2-google)',
    'Booting from Hard Disk 0...',
    `[    0.000000] Linux version 6.4.0 (imagecast gce fake: ${name})`,
    '[  OK  ] Started OpenSSH Daemon.',
    '[  OK  ] Started Google Compute Engine Guest Agent.',
    `${name} login: `,
    '',
  ].join('\r\n');

/** instances.insert: POST projects/{project}/zones/{zone}/instances?requestId — https://cloud.google.com/compute/docs/reference/rest/v1/instances/insert */
export function insertInstance(call: Call): OperationRecord {
  const { store, project, body } = call;
  const zone = call.zone!;
  const name = checkName(body['name']);
  const instances = store.project(project).instances;
  if (instances.has(`${zone}/${name}`)) throw alreadyExists(instancePath(project, zone, name));
  const labels = checkLabels(body['labels']);
  const tags = ((body['tags'] as Json | undefined)?.['items'] ?? []) as string[];
  const resource: Json = compact({
    kind: 'compute#instance',
    id: newId(),
    creationTimestamp: timestamp(),
    name,
    description: body['description'],
    tags: compact({ items: tags.length > 0 ? [...tags] : undefined, fingerprint: fingerprint(tags) }),
    machineType: machineTypeLink(call, body['machineType']),
    status: 'PROVISIONING',
    zone: selfLink(`projects/${project}/zones/${zone}`),
    canIpForward: false,
    networkInterfaces: networkInterfaces(call),
    disks: attachedDisks(call, name),
    metadata: metadata(call),
    serviceAccounts: body['serviceAccounts'] ? copy(body['serviceAccounts']) : undefined,
    selfLink: selfLink(instancePath(project, zone, name)),
    scheduling: { onHostMaintenance: 'MIGRATE', automaticRestart: true, preemptible: false, provisioningModel: 'STANDARD' },
    cpuPlatform: 'Intel Broadwell',
    labels: Object.keys(labels).length > 0 ? labels : undefined,
    labelFingerprint: fingerprint(labels),
    startRestricted: false,
    deletionProtection: false,
    fingerprint: fingerprint([name, Date.now()]),
  });
  const record: InstanceRecord = { resource, serial: '' };
  instances.set(`${zone}/${name}`, record);
  store.schedule(store.options.operationMs / 2, () => {
    if (resource['status'] === 'PROVISIONING') resource['status'] = 'STAGING';
  });
  return startOperation(store, {
    project,
    zone,
    operationType: 'insert',
    targetLink: String(resource['selfLink']),
    targetId: String(resource['id']),
    complete: () => {
      if (resource['status'] !== 'STAGING' && resource['status'] !== 'PROVISIONING') return;
      Object.assign(resource, { status: 'RUNNING', lastStartTimestamp: timestamp() });
      record.serial += bootLog(name);
    },
  });
}

/** instances.get: GET …/zones/{zone}/instances/{instance} — https://cloud.google.com/compute/docs/reference/rest/v1/instances/get */
export const getInstance = (call: Call): Json => instanceView(findInstance(call));

/** instances.list: GET …/zones/{zone}/instances?filter&maxResults&pageToken — https://cloud.google.com/compute/docs/reference/rest/v1/instances/list */
export function listInstances(call: Call): Json {
  const matches = parseFilter(call.query.get('filter'));
  const all = [...call.store.project(call.project).instances.entries()]
    .filter(([key]) => key.startsWith(`${call.zone}/`))
    .map(([, record]) => instanceView(record))
    .filter(matches);
  const page = paginate(all, call.query.get('maxResults'), call.query.get('pageToken'));
  const id = `projects/${call.project}/zones/${call.zone}/instances`;
  return compact({ kind: 'compute#instanceList', id, items: page.items.length > 0 ? page.items : undefined, nextPageToken: page.nextPageToken, selfLink: selfLink(id) });
}

/** instances.delete: DELETE …/zones/{zone}/instances/{instance} — https://cloud.google.com/compute/docs/reference/rest/v1/instances/delete */
export function deleteInstance(call: Call): OperationRecord {
  const record = findInstance(call);
  record.resource['status'] = 'STOPPING';
  const key = `${call.zone}/${String(record.resource['name'])}`;
  const instances = call.store.project(call.project).instances;
  return startOperation(call.store, {
    project: call.project,
    zone: call.zone!,
    operationType: 'delete',
    targetLink: String(record.resource['selfLink']),
    targetId: String(record.resource['id']),
    complete: () => {
      if (instances.get(key) === record) instances.delete(key);
    },
  });
}

/** instances.reset (a hard reset; it stays RUNNING): POST …/instances/{instance}/reset — https://cloud.google.com/compute/docs/reference/rest/v1/instances/reset */
export function resetInstance(call: Call): OperationRecord {
  const record = findInstance(call);
  return startOperation(call.store, {
    project: call.project,
    zone: call.zone!,
    operationType: 'reset',
    targetLink: String(record.resource['selfLink']),
    targetId: String(record.resource['id']),
    complete: () => {
      record.serial += bootLog(String(record.resource['name']));
    },
  });
}

/**
 * instances.getSerialPortOutput: GET …/instances/{instance}/serialPort?port&start —
 * https://cloud.google.com/compute/docs/reference/rest/v1/instances/getSerialPortOutput.
 * Port 1 carries the boot log; `next` is where the following read starts.
 */
export function serialPortOutput(call: Call): Json {
  const record = findInstance(call);
  const port = Number(call.query.get('port') ?? 1);
  if (!Number.isInteger(port) || port < 1 || port > 4) throw invalidField('port', call.query.get('port'));
  const text = port === 1 ? record.serial : '';
  const start = Math.min(Number(call.query.get('start') ?? 0) || 0, text.length);
  return {
    kind: 'compute#serialPortOutput',
    contents: text.slice(start),
    start: String(start),
    next: String(text.length),
    selfLink: `${String(record.resource['selfLink'])}/serialPort`,
  };
}
