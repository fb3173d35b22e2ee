// Shared by the ARM fake's tests: the real SDK clients pointed at a fake (HTTPS, its CA
// trusted per client, a static token), and the few resources most tests start from.
import assert from 'node:assert/strict';
import { ComputeManagementClient, type GalleryImageVersion } from '@azure/arm-compute';
import { NetworkManagementClient } from '@azure/arm-network';
import { ResourceManagementClient } from '@azure/arm-resources';
import { trustCaPolicy } from '../../activities/azure/trust-ca.js';
import { startArmFake, type ArmFake } from '../../infra/fakes/azure-arm/index.js';

export const SUBSCRIPTION = '3f2a9c4e-1b7d-4e8a-9c2f-5d6e7f8a9b0c';
const credential: ConstructorParameters<typeof ComputeManagementClient>[0] = {
  getToken: async () => ({ token: 'fake', expiresOnTimestamp: Date.now() + 3600e3 }),
};
/** core-lro ignores the fake's `Retry-After: 0`, so every begin… call says how fast to poll. */
export const FAST = { updateIntervalInMs: 10 };
/** The one blob the fakes' `blobExists` knows. */
export const BLOB = 'https://imagecastimages.blob.core.windows.net/vhds/sles-15-sp6.vhd';
export const REGIONS = ['westeurope', 'northeurope', 'eastus'];
export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export interface RawResponse {
  status: number;
  headers: { get(name: string): string | undefined };
  bodyAsText?: string | null;
}
/**
 * Options for a begin… call that keep the SDK's first (initial) response, and what `look`
 * saw the moment it arrived: what the PUT/POST answered and the fake's state before the
 * operation can end, without a second request racing operationMs.
 */
export function firstAnswer<T = undefined>(look?: () => T) {
  const kept: { response?: RawResponse; seen?: T } = {};
  const onResponse = (response: RawResponse) => {
    if (kept.response) return;
    kept.response = response;
    kept.seen = look?.();
  };
  return { options: { ...FAST, onResponse }, kept };
}
/** The `properties` of the JSON on the wire (the SDK's models flatten them). */
export const propertiesOf = (response: RawResponse | undefined) =>
  (JSON.parse(response?.bodyAsText || '{}') as { properties?: Record<string, unknown> }).properties;

/** What the SDK throws for an ARM error: a RestError with the HTTP status and ARM's code. */
export async function armError(
  call: Promise<unknown>,
): Promise<{ statusCode?: number; code?: string; message: string }> {
  try {
    await call;
  } catch (error) {
    return error as { statusCode?: number; code?: string; message: string };
  }
  assert.fail('the call succeeded');
}

export type ArmClients = ReturnType<typeof armClients>;

export function armClients(fake: ArmFake) {
  const options = {
    endpoint: fake.endpoint,
    credentialScopes: ['https://management.azure.com/.default'],
    additionalPolicies: [{ policy: trustCaPolicy(fake.caPem), position: 'perCall' as const }],
  };
  return {
    resources: new ResourceManagementClient(credential, SUBSCRIPTION, options),
    compute: new ComputeManagementClient(credential, SUBSCRIPTION, options),
    network: new NetworkManagementClient(credential, SUBSCRIPTION, options),
  };
}

/** Resource groups, managed images, a gallery with one definition, and versions in it. */
export function armResources(c: ArmClients) {
  const group = (name: string, tags?: Record<string, string>) =>
    c.resources.resourceGroups.createOrUpdate(name, { location: 'westeurope', ...(tags ? { tags } : {}) });
  const image = (rg: string, name: string, blobUri = BLOB) =>
    c.compute.images.beginCreateOrUpdateAndWait(
      rg,
      name,
      {
        location: 'westeurope',
        hyperVGeneration: 'V2',
        tags: { release: 'r1' },
        storageProfile: { osDisk: { osType: 'Linux', osState: 'Generalized', blobUri } },
      },
      FAST,
    );
  /** A gallery with one definition in `rg`, and a managed image to publish from. */
  async function galleryWithDefinition(rg: string) {
    await group(rg);
    const source = await image(rg, 'source');
    const gallery = await c.compute.galleries.beginCreateOrUpdateAndWait(
      rg,
      'imagecast_gallery',
      { location: 'westeurope', sharingProfile: { permissions: 'Groups' } },
      FAST,
    );
    const definition = await c.compute.galleryImages.beginCreateOrUpdateAndWait(
      rg,
      'imagecast_gallery',
      'sles-15-sp6',
      {
        location: 'westeurope',
        osType: 'Linux',
        osState: 'Generalized',
        hyperVGeneration: 'V2',
        architecture: 'x64',
        identifier: { publisher: 'SUSE', offer: 'sles-15-sp6', sku: 'gen2' },
        features: [{ name: 'SecurityType', value: 'TrustedLaunchSupported' }],
      },
      FAST,
    );
    return { source, gallery, definition };
  }
  const publish = (rg: string, version: string, sourceId: string, regions = REGIONS) =>
    c.compute.galleryImageVersions.beginCreateOrUpdate(
      rg,
      'imagecast_gallery',
      'sles-15-sp6',
      version,
      {
        location: 'westeurope',
        tags: { release: 'r1' },
        storageProfile: { source: { id: sourceId } },
        publishingProfile: {
          targetRegions: regions.map((name) => ({ name, regionalReplicaCount: 1 })),
          replicaCount: 1,
          endOfLifeDate: new Date('2030-01-01T00:00:00Z'),
        },
        safetyProfile: { allowDeletionOfReplicatedLocations: false },
      },
      FAST,
    );
  const withStatus = (rg: string, version: string) =>
    c.compute.galleryImageVersions.get(rg, 'imagecast_gallery', 'sles-15-sp6', version, {
      expand: 'ReplicationStatus',
    });
  const states = (v: GalleryImageVersion) =>
    Object.fromEntries((v.replicationStatus?.summary ?? []).map((s) => [s.region, s.state]));
  return { group, image, galleryWithDefinition, publish, withStatus, states };
}

/** The fake every ARM fake test file starts from (knowing only BLOB), with SDK clients on it and the helpers above. */
export async function startArmFakeWithClients() {
  const fake = await startArmFake({ operationMs: 60, replicationMs: 200, copyMs: 200, blobExists: async (uri) => uri === BLOB });
  const c = armClients(fake);
  return { fake, c, arm: armResources(c) };
}
