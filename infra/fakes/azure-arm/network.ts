// Network resources a test VM needs, as documented at
// https://learn.microsoft.com/rest/api/virtualnetwork/virtual-networks/create-or-update (with
// inline subnets), https://learn.microsoft.com/rest/api/virtualnetwork/network-security-groups/create-or-update
// (securityRules), https://learn.microsoft.com/rest/api/virtualnetwork/public-ip-addresses/create-or-update
// and https://learn.microsoft.com/rest/api/virtualnetwork/network-interfaces/create-or-update
// (ipConfigurations → subnet, public IP). The Network RP answers 201 + Azure-AsyncOperation
// with provisioningState `Updating`, keeps an `etag`, and refuses a reference to an id that
// does not exist with 400 InvalidResourceReference. A public IP gets an address from
// 203.0.113.0/24 (TEST-NET-3) once provisioned, a NIC the next private address of its
// subnet. Left out: peering, service endpoints, DNS, IPv6, default security rules, NAT.
import { randomUUID } from 'node:crypto';
import { ArmError, invalidParameter, invalidReference } from './errors.js';
import { networkExtra, type ResourceKind } from './resources.js';
import { TYPES, type Call, type Json, type Store } from './state.js';

type Child = { name?: string; id?: string; properties?: Json };

/** Gives inline children (subnets, rules) their ids and states, as the RP answers them. */
const children = (call: Call, list: unknown, segment: string, type: string): Json[] =>
  ((list ?? []) as Child[]).map((child) => {
    if (!child.name) throw invalidParameter(`Every entry of '${segment}' needs a name.`, segment);
    return {
      name: child.name,
      id: `${call.path}/${segment}/${child.name}`,
      type,
      etag: `W/"${randomUUID()}"`,
      properties: { ...child.properties, provisioningState: 'Succeeded' },
    };
  });

const mustExist = (store: Store, id: unknown, type: string, by: string) => {
  if (typeof id !== 'string' || store.resource(id)?.type !== type) throw invalidReference(String(id), by);
};

const base = { creating: 'Updating', updating: 'Updating', extra: networkExtra };

export const virtualNetworkKind: ResourceKind = {
  ...base,
  type: TYPES.virtualNetworks,
  build(call) {
    const properties = { ...((call.body['properties'] ?? {}) as Json) };
    const prefixes = (properties['addressSpace'] as Json | undefined)?.['addressPrefixes'];
    if (!Array.isArray(prefixes) || prefixes.length === 0) {
      throw invalidParameter(
        'The virtual network needs addressSpace.addressPrefixes.',
        'properties.addressSpace',
      );
    }
    const subnets = children(
      call,
      properties['subnets'],
      'subnets',
      'Microsoft.Network/virtualNetworks/subnets',
    );
    for (const subnet of subnets) {
      const nsg = ((subnet['properties'] as Json)['networkSecurityGroup'] as Json | undefined)?.['id'];
      if (nsg !== undefined) mustExist(call.store, nsg, TYPES.networkSecurityGroups, String(subnet['id']));
    }
    return { ...properties, subnets, resourceGuid: randomUUID() };
  },
};

export const networkSecurityGroupKind: ResourceKind = {
  ...base,
  type: TYPES.networkSecurityGroups,
  build(call) {
    const properties = { ...((call.body['properties'] ?? {}) as Json) };
    const rules = children(
      call,
      properties['securityRules'],
      'securityRules',
      'Microsoft.Network/networkSecurityGroups/securityRules',
    );
    for (const rule of rules) {
      const priority = Number((rule['properties'] as Json)['priority']);
      if (!(priority >= 100 && priority <= 4096)) {
        throw new ArmError(
          400,
          'SecurityRuleInvalidPriority',
          `Security rule has invalid Priority. Value provided: ${String(priority)} Allowed range 100-4096.`,
        );
      }
    }
    return { ...properties, securityRules: rules, resourceGuid: randomUUID() };
  },
};

export const publicIPAddressKind: ResourceKind = {
  ...base,
  type: TYPES.publicIPAddresses,
  build(call) {
    const properties = { ...((call.body['properties'] ?? {}) as Json) };
    properties['publicIPAllocationMethod'] ??= 'Dynamic';
    properties['publicIPAddressVersion'] ??= 'IPv4';
    properties['idleTimeoutInMinutes'] ??= 4;
    return { ...properties, resourceGuid: randomUUID() };
  },
  provisioned(record, call) {
    const properties = record.body['properties'] as Json;
    if (properties['ipAddress']) return;
    const taken = [...call.store.resources.values()].filter(
      (r) => r.type === TYPES.publicIPAddresses && (r.body['properties'] as Json)['ipAddress'],
    );
    properties['ipAddress'] = `203.0.113.${10 + (taken.length % 240)}`;
  },
};

/** The subnet a NIC's ipConfiguration names, found inside its virtual network. */
function subnetOf(store: Store, id: unknown): Json | undefined {
  if (typeof id !== 'string') return undefined;
  const vnet = store.resource(id.replace(/\/subnets\/[^/]+$/i, ''));
  if (vnet?.type !== TYPES.virtualNetworks) return undefined;
  const subnets = ((vnet.body['properties'] as Json)['subnets'] ?? []) as Json[];
  return subnets.find((s) => String(s['id']).toLowerCase() === id.toLowerCase());
}

/** The next address of a subnet: Azure keeps .0–.3 for itself, so the first NIC gets .4. */
function nextAddress(store: Store, subnet: Json): string {
  const prefix = String((subnet['properties'] as Json)['addressPrefix'] ?? '10.0.0.0/24').split('/')[0]!;
  const used = [...store.resources.values()].filter(
    (r) =>
      r.type === TYPES.networkInterfaces &&
      ((r.body['properties'] as Json)['ipConfigurations'] as Json[]).some(
        (c) =>
          String(((c['properties'] as Json)['subnet'] as Json)['id']).toLowerCase() ===
          String(subnet['id']).toLowerCase(),
      ),
  ).length;
  const octets = prefix.split('.').map(Number);
  return [...octets.slice(0, 3), (octets[3] ?? 0) + 4 + used].join('.');
}

export const networkInterfaceKind: ResourceKind = {
  ...base,
  type: TYPES.networkInterfaces,
  build(call, existing) {
    const properties = { ...((call.body['properties'] ?? {}) as Json) };
    const configs = children(
      call,
      properties['ipConfigurations'],
      'ipConfigurations',
      'Microsoft.Network/networkInterfaces/ipConfigurations',
    );
    if (configs.length === 0)
      throw invalidParameter(
        'A network interface needs at least one ipConfiguration.',
        'properties.ipConfigurations',
      );
    configs.forEach((config, i) => {
      const p = config['properties'] as Json;
      const subnet = subnetOf(call.store, (p['subnet'] as Json | undefined)?.['id']);
      if (!subnet) throw invalidReference(String((p['subnet'] as Json | undefined)?.['id']), call.path);
      const pip = (p['publicIPAddress'] as Json | undefined)?.['id'];
      if (pip !== undefined) mustExist(call.store, pip, TYPES.publicIPAddresses, call.path);
      p['privateIPAllocationMethod'] ??= 'Dynamic';
      p['privateIPAddressVersion'] ??= 'IPv4';
      p['primary'] ??= i === 0;
      const kept = (
        (existing?.body['properties'] as Json | undefined)?.['ipConfigurations'] as Json[] | undefined
      )?.[i];
      p['privateIPAddress'] ??=
        (kept?.['properties'] as Json | undefined)?.['privateIPAddress'] ?? nextAddress(call.store, subnet);
    });
    const nsg = (properties['networkSecurityGroup'] as Json | undefined)?.['id'];
    if (nsg !== undefined) mustExist(call.store, nsg, TYPES.networkSecurityGroups, call.path);
    return { ...properties, ipConfigurations: configs, resourceGuid: randomUUID(), primary: true };
  },
};
