// The local ARM fake, driven only through the real SDK clients (@azure/arm-resources,
// @azure/arm-compute, @azure/arm-network) over HTTPS, trusting the fake's certificate per
// client. Shapes from https://learn.microsoft.com/rest/api/resources/resource-groups,
// https://learn.microsoft.com/rest/api/compute/ (images, galleries, gallery-sharing-profile,
// gallery-images, gallery-image-versions, virtual-machines), https://learn.microsoft.com/rest/api/virtualnetwork/
// and https://learn.microsoft.com/azure/azure-resource-manager/management/async-operations.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { ArmFake } from '../../infra/fakes/azure-arm/index.js';
import {
  armError,
  armResources,
  BLOB,
  FAST,
  firstAnswer,
  propertiesOf,
  SUBSCRIPTION,
  startArmFakeWithClients,
  type ArmClients,
} from '../support/azure-arm-fake.js';

describe('azure arm fake, driven by the Azure SDK clients', () => {
  let fake: ArmFake;
  let c: ArmClients;
  let arm: ReturnType<typeof armResources>;

  before(async () => ({ fake, c, arm } = await startArmFakeWithClients()));
  after(() => fake.stop());

  test('resource groups: create keeps tags, list filters by tag, names ignore case, delete cascades to every resource', async () => {
    const created = await arm.group('rg-tagged', { release: 'r1', owner: 'imagecast' });
    assert.equal(created.id, `/subscriptions/${SUBSCRIPTION}/resourceGroups/rg-tagged`);
    assert.deepEqual(created.tags, { release: 'r1', owner: 'imagecast' });
    assert.equal(created.properties?.provisioningState, 'Succeeded');
    await arm.group('rg-other', { release: 'r2' });
    assert.equal(fake.state.requests('resourceGroups.createOrUpdate')[0]?.status, 201);

    const found = [];
    for await (const g of c.resources.resourceGroups.list({
      filter: "tagName eq 'release' and tagValue eq 'r1'",
    }))
      found.push(g.name);
    assert.deepEqual(found, ['rg-tagged']);
    assert.equal((await c.resources.resourceGroups.checkExistence('RG-TAGGED')).body, true);
    assert.equal((await c.resources.resourceGroups.checkExistence('rg-missing')).body, false);

    await arm.image('RG-Tagged', 'doomed');
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
    const orphan = await armError(arm.image('rg-never', 'orphan'));
    assert.equal(orphan.statusCode, 404);
    assert.equal(orphan.code, 'ResourceGroupNotFound');
    assert.match(orphan.message, /Resource group 'rg-never' could not be found/);
  });

  test('managed image: PUT answers 201 Creating + Azure-AsyncOperation, the poller follows it to Succeeded; get, list, delete', async () => {
    await arm.group('rg-images');
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
    await arm.group('rg-noblob');
    const missing = 'https://imagecastimages.blob.core.windows.net/vhds/missing.vhd';
    const refused = await armError(arm.image('rg-noblob', 'no-blob', missing));
    assert.equal(refused.statusCode, 400);
    assert.equal(refused.code, 'InvalidParameter');
    assert.equal(refused.message, `The source blob ${missing} is not accessible.`);
    assert.equal(fake.state.images().filter((i) => i['name'] === 'no-blob').length, 0);
  });

  test('an operation-failed fault ends the async operation Failed; the SDK throws its code and message', async () => {
    await arm.group('rg-opfail');
    fake.faults.add({
      operation: 'images.createOrUpdate',
      resourceGroup: 'RG-OPFAIL',
      kind: 'operation-failed',
      code: 'InternalOperationError',
      message: 'Disk import failed.',
    });
    const failed = await armError(arm.image('rg-opfail', 'broken'));
    assert.match(
      failed.message,
      /The long-running operation has failed\. InternalOperationError\. Disk import failed\./,
    );
    assert.equal((await c.compute.images.get('rg-opfail', 'broken')).provisioningState, 'Failed');
    assert.equal(fake.faults.pending().length, 0);
  });

  test("a 429 storm is retried by the SDK's default retry policy (Retry-After) and the call then succeeds", async () => {
    await arm.group('rg-throttle');
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
    const throttled = await armError(arm.image('rg-throttle', 'throttled'));
    assert.equal(throttled.statusCode, 429);
    assert.equal(throttled.code, 'TooManyRequests');
    const attempts = fake.state
      .requests('images.createOrUpdate')
      .filter((r) => r.path.endsWith('/throttled'))
      .map((r) => r.status);
    assert.deepEqual(attempts, [429, 429, 429, 429], 'one call and three retries');
    fake.faults.clear();
    assert.equal((await arm.image('rg-throttle', 'throttled')).provisioningState, 'Succeeded');
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
