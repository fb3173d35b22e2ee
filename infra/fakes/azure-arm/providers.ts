// A resource provider of the subscription, as https://learn.microsoft.com/rest/api/resources/providers/get
// documents it (GET /subscriptions/{s}/providers/{resourceProviderNamespace}): `namespace`,
// `registrationState` and `resourceTypes[]` with each type's `locations` as display names
// ("West Europe"), which is how a client learns where a type exists. Only Microsoft.Compute's
// types a release uses are answered, all in the same public-cloud regions (a subset of
// Azure's; a test names others to see them refused). Left out: register/unregister, list,
// `$expand`, api versions beyond one per type, zone mappings.
import { ArmError } from './errors.js';
import type { Answer, Call } from './state.js';

const REGIONS = [
  'East US',
  'East US 2',
  'West US',
  'West US 2',
  'West US 3',
  'Central US',
  'South Central US',
  'North Europe',
  'West Europe',
  'UK South',
  'France Central',
  'Germany West Central',
  'Sweden Central',
  'Switzerland North',
  'Japan East',
  'Southeast Asia',
  'Australia East',
  'South India',
  'Central India',
  'Brazil South',
];

const COMPUTE_TYPES = [
  'images',
  'disks',
  'snapshots',
  'galleries',
  'galleries/images',
  'galleries/images/versions',
  'virtualMachines',
];

export function getProvider(call: Call): Answer {
  const namespace = call.params['namespace'] ?? '';
  if (namespace.toLowerCase() !== 'microsoft.compute') {
    // Ours: the fake knows one provider; Azure's answer for an unknown namespace is this code.
    throw new ArmError(404, 'InvalidResourceNamespace', `The resource namespace '${namespace}' is invalid.`);
  }
  return {
    status: 200,
    body: {
      id: `/subscriptions/${call.subscription}/providers/Microsoft.Compute`,
      namespace: 'Microsoft.Compute',
      registrationState: 'Registered',
      resourceTypes: COMPUTE_TYPES.map((resourceType) => ({
        resourceType,
        locations: [...REGIONS],
        apiVersions: ['2024-03-03'],
      })),
    },
  };
}
