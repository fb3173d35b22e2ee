// The local ARM fake, driven only through the real SDK clients (@azure/arm-resources,
// @azure/arm-compute, @azure/arm-network) over HTTPS, trusting the fake's certificate per
// client. Shapes from https://learn.microsoft.com/rest/api/resources/resource-groups,
// https://learn.microsoft.com/rest/api/compute/ (images, galleries, gallery-sharing-profile,
// gallery-images, gallery-image-versions, virtual-machines), https://learn.microsoft.com/rest/api/virtualnetwork/
// and https://learn.microsoft.com/azure/azure-resource-manager/management/async-operations.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ComputeManagementClient, type GalleryImageVersion } from '@azure/arm-compute';
import { NetworkManagementClient } from '@azure/arm-network';
import { ResourceManagementClient } from '@azure/arm-resources';
import { trustCaPolicy } from '../../activities/azure/trust-ca.js';
import { startArmFake, type ArmFake } from '../../infra/fakes/azure-arm/index.js';

const SUBSCRIPTION = '3f2a9c4e-1b7d-4e8a-9c2f-5d6e7f8a9b0c';
const credential: ConstructorParameters<typeof ComputeManagementClient>[0] = {
  getToken: async () => ({ token: 'fake', expiresOnTimestamp: Date.now() + 3600e3 }),
};
/** core-lro ignores the fake's `Retry-After: 0`, so every begin… call says how fast to poll. */
const FAST = { updateIntervalInMs: 10 };
const BLOB = 'https://imagecastimages.blob.core.windows.net/vhds/sles-15-sp6.vhd';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface RawResponse {
  status: number;
  headers: { get(name: string): string | undefined };
  bodyAsText?: string | null;
}
/**
 * Options for a begin… call that keep the SDK's first (initial) response, and what `look`
 * saw the moment it arrived: what the PUT/POST answered and the fake's state before the
 * operation can end, without a second request racing operationMs.
 */
function firstAnswer<T = undefined>(look?: () => T) {
  const kept: { response?: RawResponse; seen?: T } = {};
  const onResponse = (response: RawResponse) => {
    if (kept.response) return;
    kept.response = response;
    kept.seen = look?.();
  };
  return { options: { ...FAST, onResponse }, kept };
}
/** The `properties` of the JSON on the wire (the SDK's models flatten them). */
const propertiesOf = (response: RawResponse | undefined) =>
  (JSON.parse(response?.bodyAsText || '{}') as { properties?: Record<string, unknown> }).properties;

/** What the SDK throws for an ARM error: a RestError with the HTTP status and ARM's code. */
async function armError(
  call: Promise<unknown>,
): Promise<{ statusCode?: number; code?: string; message: string }> {
  try {
    await call;
  } catch (error) {
    return error as { statusCode?: number; code?: string; message: string };
  }
  assert.fail('the call succeeded');
}

function clients(fake: ArmFake) {
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

describe('azure arm fake, driven by the Azure SDK clients', () => {
  let fake: ArmFake;
  let c: ReturnType<typeof clients>;
  const present = new Set([BLOB]);

  before(async () => {
    fake = await startArmFake({
      operationMs: 60,
      replicationMs: 200,
      blobExists: async (uri) => present.has(uri),
    });
    c = clients(fake);
  });
  after(async () => {
    await fake.stop();
  });

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

  test('resource groups: create keeps tags, list filters by tag, names ignore case, delete cascades to every resource', async () => {
    const created = await group('rg-tagged', { release: 'r1', owner: 'imagecast' });
    assert.equal(created.id, `/subscriptions/${SUBSCRIPTION}/resourceGroups/rg-tagged`);
    assert.deepEqual(created.tags, { release: 'r1', owner: 'imagecast' });
    assert.equal(created.properties?.provisioningState, 'Succeeded');
    await group('rg-other', { release: 'r2' });
    assert.equal(fake.state.requests('resourceGroups.createOrUpdate')[0]?.status, 201);

    const found = [];
    for await (const g of c.resources.resourceGroups.list({
      filter: "tagName eq 'release' and tagValue eq 'r1'",
    }))
      found.push(g.name);
    assert.deepEqual(found, ['rg-tagged']);
    assert.equal((await c.resources.resourceGroups.checkExistence('RG-TAGGED')).body, true);
    assert.equal((await c.resources.resourceGroups.checkExistence('rg-missing')).body, false);

    await image('RG-Tagged', 'doomed');
    assert.equal(fake.state.images().length, 1);
    await c.resources.resourceGroups.beginDeleteAndWait('rg-tagged', FAST);
    assert.equal(fake.state.images().length, 0, 'the group took its image with it');
    const gone = await armError(c.resources.resourceGroups.get('rg-tagged'));
    assert.equal(gone.statusCode, 404);
    assert.equal(gone.code, 'ResourceGroupNotFound');
    const polls = fake.state.requests('operationResults.get').map((r) => r.status);
    assert.equal(polls.at(-1), 200, 'the Location answers 200 once the group is gone');
    assert.equal(fake.state.requests('resourceGroups.delete')[0]?.status, 202);

    const missing = await armError(c.resources.resourceGroups.beginDeleteAndWait('rg-never', FAST));
    assert.equal(missing.code, 'ResourceGroupNotFound');
    const orphan = await armError(image('rg-never', 'orphan'));
    assert.equal(orphan.statusCode, 404);
    assert.equal(orphan.code, 'ResourceGroupNotFound');
    assert.match(orphan.message, /Resource group 'rg-never' could not be found/);
  });

  test('managed image: PUT answers 201 Creating + Azure-AsyncOperation, the poller follows it to Succeeded; get, list, delete', async () => {
    await group('rg-images');
    const first = firstAnswer();
    const poller = await c.compute.images.beginCreateOrUpdate(
      'rg-images',
      'sles-15-sp6-v20261204',
      {
        location: 'westeurope',
        hyperVGeneration: 'V2',
        tags: { release: 'r7' },
        storageProfile: { osDisk: { osType: 'Linux', osState: 'Generalized', blobUri: BLOB } },
      },
      first.options,
    );
    const put = first.kept.response;
    assert.equal(put?.status, 201);
    assert.match(
      put?.headers.get('azure-asyncoperation') ?? '',
      /^https:\/\/127\.0\.0\.1:\d+\/subscriptions\/[-0-9a-f]+\/providers\/Microsoft\.Compute\/locations\/westeurope\/operations\/[-0-9a-f]+\?api-version=/,
    );
    assert.equal(put?.headers.get('retry-after'), '0');
    assert.equal(propertiesOf(put)?.['provisioningState'], 'Creating');
    const done = await poller.pollUntilDone();
    assert.equal(done.provisioningState, 'Succeeded');
    assert.equal(fake.state.requests('images.createOrUpdate')[0]?.status, 201);
    assert.ok(fake.state.requests('operations.get').length >= 1, 'polled the Azure-AsyncOperation URL');

    const got = await c.compute.images.get('rg-images', 'sles-15-sp6-v20261204');
    assert.equal(
      got.id,
      `/subscriptions/${SUBSCRIPTION}/resourceGroups/rg-images/providers/Microsoft.Compute/images/sles-15-sp6-v20261204`,
    );
    assert.equal(got.type, 'Microsoft.Compute/images');
    assert.equal(got.location, 'westeurope');
    assert.equal(got.hyperVGeneration, 'V2');
    assert.deepEqual(got.tags, { release: 'r7' });
    assert.deepEqual(
      {
        osType: got.storageProfile?.osDisk?.osType,
        osState: got.storageProfile?.osDisk?.osState,
        blobUri: got.storageProfile?.osDisk?.blobUri,
      },
      { osType: 'Linux', osState: 'Generalized', blobUri: BLOB },
    );
    const listed = [];
    for await (const i of c.compute.images.listByResourceGroup('RG-IMAGES')) listed.push(i.name);
    assert.deepEqual(listed, ['sles-15-sp6-v20261204']);

    await c.compute.images.beginDeleteAndWait('rg-images', 'sles-15-sp6-v20261204', FAST);
    const gone = await armError(c.compute.images.get('rg-images', 'sles-15-sp6-v20261204'));
    assert.equal(gone.statusCode, 404);
    assert.equal(gone.code, 'ResourceNotFound');
  });

  test("managed image from a blob that does not exist is refused with Azure's message", async () => {
    await group('rg-noblob');
    const missing = 'https://imagecastimages.blob.core.windows.net/vhds/missing.vhd';
    const refused = await armError(image('rg-noblob', 'no-blob', missing));
    assert.equal(refused.statusCode, 400);
    assert.equal(refused.code, 'InvalidParameter');
    assert.equal(refused.message, `The source blob ${missing} is not accessible.`);
    assert.equal(fake.state.images().filter((i) => i['name'] === 'no-blob').length, 0);
  });

  test('an operation-failed fault ends the async operation Failed; the SDK throws its code and message', async () => {
    await group('rg-opfail');
    fake.faults.add({
      operation: 'images.createOrUpdate',
      resourceGroup: 'RG-OPFAIL',
      kind: 'operation-failed',
      code: 'InternalOperationError',
      message: 'Disk import failed.',
    });
    const failed = await armError(image('rg-opfail', 'broken'));
    assert.match(
      failed.message,
      /The long-running operation has failed\. InternalOperationError\. Disk import failed\./,
    );
    assert.equal((await c.compute.images.get('rg-opfail', 'broken')).provisioningState, 'Failed');
    assert.equal(fake.faults.pending().length, 0);
  });

  const REGIONS = ['westeurope', 'northeurope', 'eastus'];
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

  test('gallery, definition, and a version replicated to three regions: per-region status progresses to Completed', async () => {
    const { source, gallery, definition } = await galleryWithDefinition('rg-gallery');
    assert.equal(gallery.provisioningState, 'Succeeded');
    assert.equal(gallery.identifier?.uniqueName, `${SUBSCRIPTION}-IMAGECAST_GALLERY`);
    assert.deepEqual(definition.identifier, { publisher: 'SUSE', offer: 'sles-15-sp6', sku: 'gen2' });
    assert.deepEqual(definition.features, [{ name: 'SecurityType', value: 'TrustedLaunchSupported' }]);
    assert.equal(definition.architecture, 'x64');

    const poller = await publish('rg-gallery', '1.0.0', source.id!);
    const seen: Array<Record<string, string | undefined>> = [];
    while (!poller.isDone()) {
      seen.push(states(await withStatus('rg-gallery', '1.0.0')));
      await poller.poll();
      await sleep(20);
    }
    const version = await poller.pollUntilDone();
    assert.equal(version.provisioningState, 'Succeeded');
    assert.ok(
      seen.some((s) => s['westeurope'] === 'Replicating' && s['eastus'] === 'Unknown'),
      `one region after another: ${JSON.stringify(seen)}`,
    );
    assert.ok(seen.some((s) => s['westeurope'] === 'Completed' && s['eastus'] !== 'Completed'));
    const final = await withStatus('rg-gallery', '1.0.0');
    assert.equal(final.replicationStatus?.aggregatedState, 'Completed');
    assert.deepEqual(states(final), {
      westeurope: 'Completed',
      northeurope: 'Completed',
      eastus: 'Completed',
    });
    assert.ok(final.replicationStatus?.summary?.every((s) => s.progress === 100));
    assert.equal(final.storageProfile?.source?.id, source.id);
    assert.deepEqual(
      final.publishingProfile?.targetRegions?.map((r) => [r.name, r.regionalReplicaCount]),
      REGIONS.map((r) => [r, 1]),
    );
    assert.equal(final.publishingProfile?.endOfLifeDate?.toISOString(), '2030-01-01T00:00:00.000Z');
    assert.equal(final.safetyProfile?.allowDeletionOfReplicatedLocations, false);
    assert.equal(
      (await c.compute.galleryImageVersions.get('rg-gallery', 'imagecast_gallery', 'sles-15-sp6', '1.0.0'))
        .replicationStatus,
      undefined,
      'only with $expand',
    );
    const listed = [];
    for await (const v of c.compute.galleryImageVersions.listByGalleryImage(
      'rg-gallery',
      'imagecast_gallery',
      'sles-15-sp6',
    ))
      listed.push(v.name);
    assert.deepEqual(listed, ['1.0.0']);

    const orphan = await armError(
      c.compute.galleryImageVersions.beginCreateOrUpdateAndWait(
        'rg-gallery',
        'imagecast_gallery',
        'no-such-definition',
        '1.0.0',
        { location: 'westeurope', storageProfile: { source: { id: source.id! } } },
        FAST,
      ),
    );
    assert.equal(orphan.statusCode, 404);
    assert.equal(orphan.code, 'ParentResourceNotFound');
    const busy = await armError(
      c.compute.galleryImages.beginDeleteAndWait('rg-gallery', 'imagecast_gallery', 'sles-15-sp6', FAST),
    );
    assert.equal(busy.statusCode, 409);
    assert.equal(busy.code, 'CannotDeleteResource');
    await c.compute.galleryImageVersions.beginDeleteAndWait(
      'rg-gallery',
      'imagecast_gallery',
      'sles-15-sp6',
      '1.0.0',
      FAST,
    );
    const full = await armError(
      c.compute.galleries.beginDeleteAndWait('rg-gallery', 'imagecast_gallery', FAST),
    );
    assert.equal(full.code, 'CannotDeleteResource', 'a gallery with definitions stays');
    await c.compute.galleryImages.beginDeleteAndWait('rg-gallery', 'imagecast_gallery', 'sles-15-sp6', FAST);
    await c.compute.galleries.beginDeleteAndWait('rg-gallery', 'imagecast_gallery', FAST);
    assert.equal(fake.state.galleries().filter((g) => String(g['id']).includes('/rg-gallery/')).length, 0);
  });

  test("a replication-failed region ends Failed while the others complete; the version fails with Azure's message", async () => {
    const { source } = await galleryWithDefinition('rg-replfail');
    fake.faults.add({
      operation: 'galleryImageVersions.createOrUpdate',
      kind: 'replication-failed',
      region: 'northeurope',
      message: 'Failed with internal server error.',
    });
    const failed = await armError((await publish('rg-replfail', '2.0.0', source.id!)).pollUntilDone());
    assert.match(
      failed.message,
      /Gallery replication jobs failed in one or more regions.*\{region:northeurope, detail:Failed with internal server error\.\}/,
    );
    const version = await withStatus('rg-replfail', '2.0.0');
    assert.equal(version.provisioningState, 'Failed');
    assert.equal(version.replicationStatus?.aggregatedState, 'Failed');
    assert.deepEqual(states(version), {
      westeurope: 'Completed',
      northeurope: 'Failed',
      eastus: 'Completed',
    });
    assert.equal(
      version.replicationStatus?.summary?.find((s) => s.region === 'northeurope')?.details,
      'Failed with internal server error.',
    );
  });

  test('PATCH: a new target region replicates alone; endOfLifeDate and excludeFromLatest change alone', async () => {
    const { source } = await galleryWithDefinition('rg-patch');
    await (await publish('rg-patch', '3.0.0', source.id!, ['westeurope', 'northeurope'])).pollUntilDone();
    const first = firstAnswer(() =>
      fake.state.galleryImageVersions().find((v) => String(v['id']).includes('/rg-patch/')),
    );
    const poller = await c.compute.galleryImageVersions.beginUpdate(
      'rg-patch',
      'imagecast_gallery',
      'sles-15-sp6',
      '3.0.0',
      {
        publishingProfile: {
          targetRegions: ['westeurope', 'northeurope', 'eastus2'].map((name) => ({
            name,
            regionalReplicaCount: 1,
          })),
        },
      },
      first.options,
    );
    assert.equal(propertiesOf(first.kept.response)?.['provisioningState'], 'Updating');
    const during = Object.fromEntries(
      (
        (first.kept.seen?.['properties'] as Record<string, unknown>)['replicationStatus'] as {
          summary: Array<{ region: string; state: string }>;
        }
      ).summary.map((r) => [r.region, r.state]),
    );
    assert.equal(during['westeurope'], 'Completed', 'replicated regions stay replicated');
    assert.equal(during['northeurope'], 'Completed');
    assert.notEqual(during['eastus2'], 'Completed');
    const meanwhile = await armError(
      c.compute.galleryImageVersions.beginUpdateAndWait(
        'rg-patch',
        'imagecast_gallery',
        'sles-15-sp6',
        '3.0.0',
        { publishingProfile: { excludeFromLatest: true } },
        FAST,
      ),
    );
    assert.equal(meanwhile.statusCode, 409, 'one change at a time');
    assert.equal(meanwhile.code, 'OperationNotAllowed');
    await poller.pollUntilDone();
    assert.deepEqual(states(await withStatus('rg-patch', '3.0.0')), {
      westeurope: 'Completed',
      northeurope: 'Completed',
      eastus2: 'Completed',
    });

    const before = await withStatus('rg-patch', '3.0.0');
    const patched = await c.compute.galleryImageVersions.beginUpdateAndWait(
      'rg-patch',
      'imagecast_gallery',
      'sles-15-sp6',
      '3.0.0',
      { publishingProfile: { endOfLifeDate: new Date('2027-06-30T00:00:00Z'), excludeFromLatest: true } },
      FAST,
    );
    assert.equal(patched.publishingProfile?.endOfLifeDate?.toISOString(), '2027-06-30T00:00:00.000Z');
    assert.equal(patched.publishingProfile?.excludeFromLatest, true);
    const after = await withStatus('rg-patch', '3.0.0');
    assert.deepEqual(after.publishingProfile?.targetRegions, before.publishingProfile?.targetRegions);
    assert.deepEqual(after.replicationStatus, before.replicationStatus);
    assert.deepEqual(after.tags, before.tags);
    assert.deepEqual(after.storageProfile, before.storageProfile);
  });

  test('sharing profile: Add subscriptions and tenants, Remove one, Reset to private', async () => {
    await galleryWithDefinition('rg-share');
    const other = 'a1b2c3d4-0000-4000-8000-000000000001';
    const tenant = 'b1b2c3d4-0000-4000-8000-000000000002';
    const share = (operationType: string, groups: Array<{ type: string; ids: string[] }> = []) =>
      c.compute.gallerySharingProfile.beginUpdateAndWait(
        'rg-share',
        'imagecast_gallery',
        { operationType, groups },
        FAST,
      );
    const added = await share('Add', [
      { type: 'Subscriptions', ids: [SUBSCRIPTION, other] },
      { type: 'AADTenants', ids: [tenant] },
    ]);
    assert.equal(added.operationType, 'Add');
    let gallery = await c.compute.galleries.get('rg-share', 'imagecast_gallery');
    assert.equal(gallery.sharingProfile?.permissions, 'Groups');
    assert.deepEqual(gallery.sharingProfile?.groups, [
      { type: 'Subscriptions', ids: [SUBSCRIPTION, other] },
      { type: 'AADTenants', ids: [tenant] },
    ]);
    await share('Remove', [{ type: 'Subscriptions', ids: [other] }]);
    gallery = await c.compute.galleries.get('rg-share', 'imagecast_gallery');
    assert.deepEqual(gallery.sharingProfile?.groups, [
      { type: 'Subscriptions', ids: [SUBSCRIPTION] },
      { type: 'AADTenants', ids: [tenant] },
    ]);
    await share('Reset');
    gallery = await c.compute.galleries.get('rg-share', 'imagecast_gallery');
    assert.equal(gallery.sharingProfile?.permissions, 'Private');
    assert.deepEqual(gallery.sharingProfile?.groups, []);
  });

  test('network, NIC and VM: references are checked, the VM runs, restarts, and goes with its group', async () => {
    const rg = 'rg-vm';
    const { source } = await galleryWithDefinition(rg);
    const net = `/subscriptions/${SUBSCRIPTION}/resourceGroups/${rg}/providers/Microsoft.Network`;
    const nsg = await c.network.networkSecurityGroups.beginCreateOrUpdateAndWait(
      rg,
      'imagecast-nsg',
      {
        location: 'westeurope',
        securityRules: [
          {
            name: 'ssh',
            protocol: 'Tcp',
            sourcePortRange: '*',
            destinationPortRange: '22',
            sourceAddressPrefix: '*',
            destinationAddressPrefix: '*',
            access: 'Allow',
            priority: 100,
            direction: 'Inbound',
          },
        ],
      },
      FAST,
    );
    assert.equal(nsg.securityRules?.[0]?.id, `${net}/networkSecurityGroups/imagecast-nsg/securityRules/ssh`);
    const vnet = await c.network.virtualNetworks.beginCreateOrUpdateAndWait(
      rg,
      'imagecast-vnet',
      {
        location: 'westeurope',
        addressSpace: { addressPrefixes: ['10.10.0.0/16'] },
        subnets: [{ name: 'default', addressPrefix: '10.10.1.0/24', networkSecurityGroup: { id: nsg.id! } }],
      },
      FAST,
    );
    assert.equal(vnet.provisioningState, 'Succeeded');
    const subnetId = vnet.subnets?.[0]?.id;
    assert.equal(subnetId, `${net}/virtualNetworks/imagecast-vnet/subnets/default`);
    const first = firstAnswer();
    await c.network.publicIPAddresses.beginCreateOrUpdateAndWait(
      rg,
      'imagecast-ip',
      { location: 'westeurope', publicIPAllocationMethod: 'Static', sku: { name: 'Standard' } },
      first.options,
    );
    assert.equal(first.kept.response?.status, 201);
    assert.equal(propertiesOf(first.kept.response)?.['provisioningState'], 'Updating');
    assert.equal(
      propertiesOf(first.kept.response)?.['ipAddress'],
      undefined,
      'no address before it is provisioned',
    );
    const ip = await c.network.publicIPAddresses.get(rg, 'imagecast-ip');
    assert.match(ip.ipAddress ?? '', /^203\.0\.113\.\d+$/);

    const badNic = await armError(
      c.network.networkInterfaces.beginCreateOrUpdateAndWait(
        rg,
        'bad-nic',
        {
          location: 'westeurope',
          ipConfigurations: [
            { name: 'ipconfig1', subnet: { id: `${net}/virtualNetworks/imagecast-vnet/subnets/none` } },
          ],
        },
        FAST,
      ),
    );
    assert.equal(badNic.statusCode, 400);
    assert.equal(badNic.code, 'InvalidResourceReference');
    const nic = await c.network.networkInterfaces.beginCreateOrUpdateAndWait(
      rg,
      'imagecast-nic',
      {
        location: 'westeurope',
        ipConfigurations: [{ name: 'ipconfig1', subnet: { id: subnetId! }, publicIPAddress: { id: ip.id! } }],
      },
      FAST,
    );
    assert.equal(nic.ipConfigurations?.[0]?.privateIPAddress, '10.10.1.4');
    assert.equal(nic.ipConfigurations?.[0]?.publicIPAddress?.id, ip.id);

    await (await publish(rg, '1.0.0', source.id!, ['westeurope'])).pollUntilDone();
    const versionId = `${source.id!.replace(/\/images\/source$/, '')}/galleries/imagecast_gallery/images/sles-15-sp6/versions/1.0.0`;
    const sshKey = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIImagecastTestKey imagecast@test';
    const vm = (name: string, imageId: string, location = 'westeurope') =>
      c.compute.virtualMachines.beginCreateOrUpdateAndWait(
        rg,
        name,
        {
          location,
          hardwareProfile: { vmSize: 'Standard_B2s' },
          storageProfile: {
            imageReference: { id: imageId },
            osDisk: { createOption: 'FromImage', managedDisk: { storageAccountType: 'Premium_LRS' } },
          },
          osProfile: {
            computerName: name,
            adminUsername: 'azureuser',
            linuxConfiguration: {
              disablePasswordAuthentication: true,
              ssh: { publicKeys: [{ path: '/home/azureuser/.ssh/authorized_keys', keyData: sshKey }] },
            },
          },
          networkProfile: { networkInterfaces: [{ id: nic.id!, primary: true }] },
        },
        FAST,
      );
    const missingImage = await armError(
      vm(
        'no-image',
        `/subscriptions/${SUBSCRIPTION}/resourceGroups/${rg}/providers/Microsoft.Compute/images/none`,
      ),
    );
    assert.equal(missingImage.statusCode, 404);
    assert.match(
      missingImage.message,
      /The Image '.*\/images\/none' cannot be found in 'westeurope' region\./,
    );
    const elsewhere = await armError(vm('elsewhere', versionId, 'eastus'));
    assert.equal(elsewhere.code, 'GalleryImageNotFound');
    assert.match(elsewhere.message, /is not available in eastus region/);

    const created = await vm('imagecast-test-vm', versionId);
    assert.equal(created.provisioningState, 'Succeeded');
    assert.match(created.vmId ?? '', /^[0-9a-f-]{36}$/);
    assert.equal(created.osProfile?.linuxConfiguration?.ssh?.publicKeys?.[0]?.keyData, sshKey);
    assert.equal(created.storageProfile?.imageReference?.id, versionId);
    const powerState = async () =>
      (await c.compute.virtualMachines.instanceView(rg, 'imagecast-test-vm')).statuses?.find((s) =>
        s.code?.startsWith('PowerState/'),
      )?.code;
    assert.equal(await powerState(), 'PowerState/running');
    const inUse = await armError(vm('second-vm', source.id!));
    assert.equal(inUse.code, 'NicInUse');

    const restart = firstAnswer(() => {
      const view = fake.state.virtualMachines()[0]?.['properties'] as {
        instanceView: { statuses: Array<{ code: string }> };
      };
      return view.instanceView.statuses.find((s) => s.code.startsWith('PowerState/'))?.code;
    });
    await c.compute.virtualMachines.beginRestartAndWait(rg, 'imagecast-test-vm', restart.options);
    assert.equal(restart.kept.response?.status, 202);
    assert.ok(restart.kept.response?.headers.get('location'), 'a POST answers a Location too');
    assert.equal(restart.kept.seen, 'PowerState/starting');
    assert.equal(await powerState(), 'PowerState/running');
    const listed = [];
    for await (const v of c.compute.virtualMachines.list(rg)) listed.push(v.name);
    assert.deepEqual(listed, ['imagecast-test-vm']);

    await c.resources.resourceGroups.beginDeleteAndWait(rg, FAST);
    assert.equal(fake.state.virtualMachines().length, 0);
    assert.equal(fake.state.networkInterfaces().length, 0);
    assert.equal(fake.state.virtualNetworks().length, 0);
    assert.equal(
      fake.state.galleryImageVersions().filter((v) => String(v['id']).includes(`/${rg}/`)).length,
      0,
    );
  });

  test("a 429 storm is retried by the SDK's default retry policy (Retry-After) and the call then succeeds", async () => {
    await group('rg-throttle');
    // core-rest-pipeline retries a 429 only through its throttling strategy, which needs a
    // Retry-After (or retry-after-ms) header: a retried 429 shows the fake sent one.
    fake.faults.add({
      operation: 'resourceGroups.get',
      kind: 'http',
      status: 429,
      code: 'TooManyRequests',
      message: 'The request is being throttled.',
      retryAfterSeconds: 0,
      times: 3,
    });
    const got = await c.resources.resourceGroups.get('rg-throttle');
    assert.equal(got.name, 'rg-throttle');
    const statuses = fake.state
      .requests('resourceGroups.get')
      .filter((r) => r.path.endsWith('/rg-throttle'))
      .map((r) => r.status);
    assert.deepEqual(statuses, [429, 429, 429, 200]);

    // The default policy retries 3 times: a longer storm reaches the caller.
    fake.faults.add({
      operation: 'images.createOrUpdate',
      kind: 'http',
      status: 429,
      code: 'TooManyRequests',
      retryAfterSeconds: 0,
      times: 5,
    });
    const throttled = await armError(image('rg-throttle', 'throttled'));
    assert.equal(throttled.statusCode, 429);
    assert.equal(throttled.code, 'TooManyRequests');
    const attempts = fake.state
      .requests('images.createOrUpdate')
      .filter((r) => r.path.endsWith('/throttled'))
      .map((r) => r.status);
    assert.deepEqual(attempts, [429, 429, 429, 429], 'one call and three retries');
    fake.faults.clear();
    assert.equal((await image('rg-throttle', 'throttled')).provisioningState, 'Succeeded');
  });

  test('a fault for an operation the fake does not serve is refused when added', () => {
    assert.throws(
      () =>
        fake.faults.add({
          operation: 'images.insert',
          kind: 'http',
          status: 500,
          code: 'InternalServerError',
        }),
      /no operation "images.insert" in the ARM fake/,
    );
    assert.throws(
      () =>
        fake.faults.add({ operation: 'images.createOrUpdate', kind: 'replication-failed', region: 'eastus' }),
      /replication-failed fault needs a galleryImageVersions operation/,
    );
  });
});
