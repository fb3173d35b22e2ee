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

/** What the SDK throws for an ARM error: a RestError with the HTTP status and ARM's code. */
async function armError(call: Promise<unknown>): Promise<{ statusCode?: number; code?: string; message: string }> {
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
    fake = await startArmFake({ operationMs: 30, replicationMs: 120, blobExists: async (uri) => present.has(uri) });
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
      { location: 'westeurope', hyperVGeneration: 'V2', tags: { release: 'r1' }, storageProfile: { osDisk: { osType: 'Linux', osState: 'Generalized', blobUri } } },
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
    for await (const g of c.resources.resourceGroups.list({ filter: "tagName eq 'release' and tagValue eq 'r1'" })) found.push(g.name);
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
    const poller = await c.compute.images.beginCreateOrUpdate(
      'rg-images',
      'sles-15-sp6-v20261204',
      { location: 'westeurope', hyperVGeneration: 'V2', tags: { release: 'r7' }, storageProfile: { osDisk: { osType: 'Linux', osState: 'Generalized', blobUri: BLOB } } },
      FAST,
    );
    assert.equal((await c.compute.images.get('rg-images', 'sles-15-sp6-v20261204')).provisioningState, 'Creating');
    const done = await poller.pollUntilDone();
    assert.equal(done.provisioningState, 'Succeeded');
    assert.equal(fake.state.requests('images.createOrUpdate')[0]?.status, 201);
    assert.ok(fake.state.requests('operations.get').length >= 1, 'polled the Azure-AsyncOperation URL');

    const got = await c.compute.images.get('rg-images', 'sles-15-sp6-v20261204');
    assert.equal(got.id, `/subscriptions/${SUBSCRIPTION}/resourceGroups/rg-images/providers/Microsoft.Compute/images/sles-15-sp6-v20261204`);
    assert.equal(got.type, 'Microsoft.Compute/images');
    assert.equal(got.location, 'westeurope');
    assert.equal(got.hyperVGeneration, 'V2');
    assert.deepEqual(got.tags, { release: 'r7' });
    assert.deepEqual(
      { osType: got.storageProfile?.osDisk?.osType, osState: got.storageProfile?.osDisk?.osState, blobUri: got.storageProfile?.osDisk?.blobUri },
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

  test('managed image from a blob that does not exist is refused with Azure\'s message', async () => {
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
    fake.faults.add({ operation: 'images.createOrUpdate', resourceGroup: 'RG-OPFAIL', kind: 'operation-failed', code: 'InternalOperationError', message: 'Disk import failed.' });
    const failed = await armError(image('rg-opfail', 'broken'));
    assert.match(failed.message, /The long-running operation has failed\. InternalOperationError\. Disk import failed\./);
    assert.equal((await c.compute.images.get('rg-opfail', 'broken')).provisioningState, 'Failed');
    assert.equal(fake.faults.pending().length, 0);
  });
});
