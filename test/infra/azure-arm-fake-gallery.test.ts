// The ARM fake's Compute Galleries, driven by @azure/arm-compute: definitions, versions with
// per-region replication, PATCH and sharing. Shapes from https://learn.microsoft.com/rest/api/compute/galleries/create-or-update,
// …/gallery-images/create-or-update, …/gallery-image-versions/get and …/update, …/gallery-sharing-profile/update.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { ArmFake } from '../../infra/fakes/azure-arm/index.js';
import {
  armError,
  armResources,
  FAST,
  firstAnswer,
  propertiesOf,
  REGIONS,
  sleep,
  SUBSCRIPTION,
  startArmFakeWithClients,
  type ArmClients,
} from '../support/azure-arm-fake.js';

describe('azure arm fake: compute galleries', () => {
  let fake: ArmFake;
  let c: ArmClients;
  let arm: ReturnType<typeof armResources>;

  before(async () => ({ fake, c, arm } = await startArmFakeWithClients()));
  after(() => fake.stop());

  test('gallery, definition, and a version replicated to three regions: per-region status progresses to Completed', async () => {
    const { source, gallery, definition } = await arm.galleryWithDefinition('rg-gallery');
    assert.equal(gallery.provisioningState, 'Succeeded');
    assert.equal(gallery.identifier?.uniqueName, `${SUBSCRIPTION}-IMAGECAST_GALLERY`);
    assert.deepEqual(definition.identifier, { publisher: 'SUSE', offer: 'sles-15-sp6', sku: 'gen2' });
    assert.deepEqual(definition.features, [{ name: 'SecurityType', value: 'TrustedLaunchSupported' }]);
    assert.equal(definition.architecture, 'x64');

    const poller = await arm.publish('rg-gallery', '1.0.0', source.id!);
    const seen: Array<Record<string, string | undefined>> = [];
    while (!poller.isDone()) {
      seen.push(arm.states(await arm.withStatus('rg-gallery', '1.0.0')));
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
    const final = await arm.withStatus('rg-gallery', '1.0.0');
    assert.equal(final.replicationStatus?.aggregatedState, 'Completed');
    assert.deepEqual(arm.states(final), {
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
    const { source } = await arm.galleryWithDefinition('rg-replfail');
    fake.faults.add({
      operation: 'galleryImageVersions.createOrUpdate',
      kind: 'replication-failed',
      region: 'northeurope',
      message: 'Failed with internal server error.',
    });
    const failed = await armError((await arm.publish('rg-replfail', '2.0.0', source.id!)).pollUntilDone());
    assert.match(
      failed.message,
      /Gallery replication jobs failed in one or more regions.*\{region:northeurope, detail:Failed with internal server error\.\}/,
    );
    const version = await arm.withStatus('rg-replfail', '2.0.0');
    assert.equal(version.provisioningState, 'Failed');
    assert.equal(version.replicationStatus?.aggregatedState, 'Failed');
    assert.deepEqual(arm.states(version), {
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
    const { source } = await arm.galleryWithDefinition('rg-patch');
    await (await arm.publish('rg-patch', '3.0.0', source.id!, ['westeurope', 'northeurope'])).pollUntilDone();
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
    assert.deepEqual(arm.states(await arm.withStatus('rg-patch', '3.0.0')), {
      westeurope: 'Completed',
      northeurope: 'Completed',
      eastus2: 'Completed',
    });

    const before = await arm.withStatus('rg-patch', '3.0.0');
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
    const after = await arm.withStatus('rg-patch', '3.0.0');
    assert.deepEqual(after.publishingProfile?.targetRegions, before.publishingProfile?.targetRegions);
    assert.deepEqual(after.replicationStatus, before.replicationStatus);
    assert.deepEqual(after.tags, before.tags);
    assert.deepEqual(after.storageProfile, before.storageProfile);
  });

  test('sharing profile: Add subscriptions and tenants, Remove one, Reset to private', async () => {
    await arm.galleryWithDefinition('rg-share');
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
});
