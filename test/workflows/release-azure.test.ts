// Azure releases against Azurite and our Resource Manager fake over HTTPS, driven by the
// official SDK clients: managed images (V1 + V2 _uefi), copied to another region, a gallery version replicated to three
// regions with each region's status, a throttling storm, a refusal that fails fast.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startReleaseHarness, type ReleaseHarness } from '../support/release-harness.js';
import { replayAndRecord } from '../support/replay-history.js';
import {
  AZURE_GALLERY_GROUP,
  AZURE_RESOURCE_GROUP,
  azureTestJob,
  startAzureEmulator,
  type AzureEmulator,
} from '../support/azure-emulator.js';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

describe('release workflow on Azure (Azurite + ARM fake)', () => {
  let az: AzureEmulator;
  let h: ReleaseHarness;

  before(async () => {
    az = await startAzureEmulator();
    h = await startReleaseHarness('release-azure', {
      queues: ['workflows', 'azure'],
      diskMiB: 24,
      accounts: az.accounts,
      providers: { azure: az.provider() },
    });
  });
  after(async () => {
    await h?.stop();
    await az?.stop();
  });

  const images = (prefix: string) =>
    az.arm.state.images().filter((i) => String(i.name).startsWith(prefix)) as Json[];
  const versions = (version: string) =>
    az.arm.state.galleryImageVersions().filter((v) => v.name === version) as Json[];

  it('uploads a kiwi .vhdfixed.xz, makes the V1 and V2 (_uefi) managed images, tests in a throw-away resource group and removes it', async () => {
    await h.publish('1', { format: 'vhdfixed' });
    const { releaseId } = await h.client.startRelease(
      azureTestJob(h.buildServer.url, 'az-managed', {
        boot_firmware: ['bios', 'uefi'],
        tests: ['test_sles'],
        instance_type: 'Standard_B1s',
      }),
    );
    const done = await h.client.waitForRelease(releaseId, { pollIntervalMs: 200 });
    assert.equal(done.state, 'succeeded', done.error);
    assert.deepEqual(
      done.steps.map((s) => `${s.name}:${s.state}`),
      [
        'download:succeeded',
        'upload:succeeded',
        'create:succeeded',
        'test:succeeded',
        'raw_image_upload:skipped',
        'replicate:skipped',
        'publish:skipped',
        'deprecate:skipped',
        'cleanup:succeeded',
      ],
    );
    assert.match(done.steps.find((s) => s.name === 'test')!.detail ?? '', /no operating system/);
    // The source's footer was checked and left off: the 24 MiB disk, then the blob's own footer.
    assert.match(done.steps.find((s) => s.name === 'download')!.detail ?? '', /\.vhdfixed\.xz/);
    assert.match(done.steps.find((s) => s.name === 'upload')!.detail ?? '', /^25165824 bytes verified/);
    const made = images(done.imageName!).sort((a, b) => String(a.name).localeCompare(String(b.name)));
    assert.deepEqual(
      made.map((i) => [i.name, i.properties.hyperVGeneration, i.location]),
      [
        [done.imageName, 'V1', 'westeurope'],
        [`${done.imageName}_uefi`, 'V2', 'westeurope'],
      ],
    );
    for (const image of made) {
      assert.equal(image.properties.provisioningState, 'Succeeded');
      assert.match(
        image.properties.storageProfile.osDisk.blobUri,
        new RegExp(`/imagecastsa/images/${done.imageName}\\.vhd$`),
      );
      assert.equal(image.properties.storageProfile.osDisk.osState, 'Generalized');
      assert.ok(image.tags?.imagecastreleasetoken);
    }
    assert.equal(done.images[0]!.imageId, made[0]!.id);
    // The VM (its body is checked in test/activities/azure/azure-provider.test.ts) ran in its own group, all of it deleted.
    assert.equal(az.arm.state.requests('virtualMachines.createOrUpdate').length, 1);
    assert.deepEqual(az.arm.state.virtualMachines(), []);
    assert.deepEqual(
      az.arm.state
        .resourceGroups()
        .map((g) => String(g.name))
        .filter((n) => n.startsWith('imagecast-test-')),
      [],
    );
    // The blob went with cleanup (the images hold their own copy).
    assert.deepEqual(await az.blobs(), []);
    await replayAndRecord(h.client.temporal, releaseId, 'release-azure-managed');
  });

  it('copies the managed images to additional_regions as <name>-<region> through a snapshot, and leaves no disk, snapshot or blob', async () => {
    await h.publish('6');
    const { releaseId } = await h.client.startRelease(
      azureTestJob(h.buildServer.url, 'az-copied', {
        boot_firmware: ['bios', 'uefi'],
        additional_regions: ['northeurope'],
      }),
    );
    const done = await h.client.waitForRelease(releaseId, { pollIntervalMs: 200 });
    assert.equal(done.state, 'succeeded', done.error);
    assert.equal(done.steps.find((s) => s.name === 'replicate')!.state, 'succeeded');
    assert.match(done.steps.find((s) => s.name === 'replicate')!.detail ?? '', /replicated to northeurope$/);
    const name = done.imageName!;
    assert.deepEqual(
      done.images.map((i) => [i.region, i.imageId.split('/').pop()]),
      [
        ['westeurope', name],
        ['northeurope', `${name}-northeurope`],
      ],
    );
    assert.deepEqual(
      images(name)
        .map((i) => [i.name, i.location, i.properties.hyperVGeneration])
        .sort(),
      [
        [name, 'westeurope', 'V1'],
        [`${name}-northeurope`, 'northeurope', 'V1'],
        [`${name}_uefi`, 'westeurope', 'V2'],
        [`${name}_uefi-northeurope`, 'northeurope', 'V2'],
      ],
    );
    const copy = images(`${name}-northeurope`)[0]!;
    assert.match(copy.properties.storageProfile.osDisk.snapshot.id, /\/snapshots\/ic-[^/]+-northeurope$/);
    assert.equal(copy.tags.imagecastreleaseid, releaseId);
    // Nothing intermediate is left: the copied snapshot went with replicate, the home disk and snapshot with cleanup.
    assert.equal(az.arm.state.requests('snapshots.createOrUpdate').length, 2);
    assert.deepEqual(az.arm.state.disks(), []);
    assert.deepEqual(az.arm.state.snapshots(), []);
    assert.deepEqual(await az.blobs(), []);
    await replayAndRecord(h.client.temporal, releaseId, 'release-azure-managed-replicated');
  });

  it('makes a gallery version and replicates it to every region, each region reported as it completes', async () => {
    await h.publish('2');
    const job = azureTestJob(h.buildServer.url, 'az-gallery', {
      gallery_name: 'imagecastgallery',
      gallery_resource_group: AZURE_GALLERY_GROUP,
      offer_id: 'imagecast-test',
      sku: 'gen1',
      generation_id: 'gen2',
      boot_firmware: ['uefi-preferred'],
      additional_regions: ['northeurope', 'eastus2'],
    });
    const { releaseId } = await h.client.startRelease(job);
    const done = await h.client.waitForRelease(releaseId, { pollIntervalMs: 200 });
    assert.equal(done.state, 'succeeded', done.error);
    assert.deepEqual(
      done.images.map((i) => i.region),
      ['westeurope', 'northeurope', 'eastus2'],
    );
    assert.match(done.steps.find((s) => s.name === 'replicate')!.detail ?? '', /versions\/\d{4}\.\d{2}\.\d{2} replicated to northeurope, eastus2$/);
    const version = done.images[0]!.imageId.split('/').pop()!;
    assert.match(version, /^\d{4}\.\d{2}\.\d{2}$/);
    const made = versions(version);
    assert.deepEqual(made.map((v) => v.id.split('/')[10]).sort(), [
      'imagecast_test_gen1',
      'imagecast_test_gen2',
    ]);
    for (const v of made) {
      assert.deepEqual(
        v.properties.publishingProfile.targetRegions.map((t: Json) => t.name),
        ['westeurope', 'northeurope', 'eastus2'],
      );
      assert.deepEqual(
        v.properties.replicationStatus.summary.map((s: Json) => `${s.region}:${s.state}`).sort(),
        ['eastus2:Completed', 'northeurope:Completed', 'westeurope:Completed'],
      );
    }
    // Imagecast made the missing definitions, with the generation each plan needs.
    const definitions = az.arm.state.galleryImages() as Json[];
    assert.deepEqual(
      definitions.map((d) => [d.name, d.properties.hyperVGeneration, d.properties.architecture]).sort(),
      [
        ['imagecast_test_gen1', 'V1', 'x64'],
        ['imagecast_test_gen2', 'V2', 'x64'],
      ],
    );
    await replayAndRecord(h.client.temporal, releaseId, 'release-azure-gallery');
  });

  it('a scheduled retirement deprecates the older gallery version: end of life now, out of "latest", in every definition', async () => {
    // The version is the first 8-digit date of the name: the build release makes each one's.
    const job = () =>
      azureTestJob(h.buildServer.url, 'az-ret', {
        cloud_image_name: 'az-ret-2026010{release}-v{date}',
        gallery_name: 'retiregallery',
        gallery_resource_group: AZURE_GALLERY_GROUP,
        offer_id: 'retire',
        sku: 'gen1',
        generation_id: 'gen2',
        additional_regions: ['northeurope'],
      });
    const made: string[] = [];
    for (const release of ['6', '7']) {
      await h.publish(release);
      const { releaseId } = await h.client.startRelease(job());
      const done = await h.client.waitForRelease(releaseId, { pollIntervalMs: 200 });
      assert.equal(done.state, 'succeeded', done.error);
      made.push(done.images[0]!.imageId);
    }
    assert.deepEqual(made.map((id) => id.split('/').pop()), ['2026.01.06', '2026.01.07']);
    const policy = { cloud: 'azure', account: 'azure-pub', image_line: 'az-ret-2026010{release}-v{date}', keep: 1 };
    await h.client.schedules.create(policy, { every: '1d', scheduleId: 'azure-retire' });
    const run = await h.client.schedules.trigger('azure-retire');
    assert.deepEqual([...new Set(run.deprecated.map((i) => i.imageId))], [made[0]]);
    const versions = (name: string) =>
      (az.arm.state.galleryImageVersions() as Json[]).filter((v) => String(v.id).includes('/retiregallery/') && v.name === name);
    const old = versions('2026.01.06');
    assert.equal(old.length, 2, 'gen1 and gen2');
    for (const v of old) {
      assert.equal(v.properties.publishingProfile.excludeFromLatest, true);
      assert.ok(Date.parse(v.properties.publishingProfile.endOfLifeDate) <= Date.now());
    }
    for (const v of versions('2026.01.07')) assert.equal(v.properties.publishingProfile.excludeFromLatest, false, 'the newest stays latest');
    const deprecated = await h.catalog.listImages({ cloud: 'azure', account: 'azure-pub', imageLine: policy.image_line, state: 'deprecated' });
    assert.deepEqual([...new Set(deprecated.map((i) => i.imageId))], [made[0]]);
    await h.client.schedules.delete('azure-retire');
  });

  it('with partner_center false, publish shares the gallery and the next release deprecates the one before', async () => {
    const subscription = 'aaaaaaaa-0000-4000-8000-00000000000a';
    const job = () =>
      azureTestJob(h.buildServer.url, 'az-pub', {
        cloud_image_name: 'az-pub-2026020{release}-v{date}',
        gallery_name: 'pubgallery',
        gallery_resource_group: AZURE_GALLERY_GROUP,
        offer_id: 'pub',
        sku: 'gen1',
        additional_regions: ['northeurope'],
        partner_center: false,
        share_with: [`subscription:${subscription}`],
        last_service: 'deprecate',
      });
    const runs: Array<{ releaseId: string; imageId: string; steps: Record<string, string> }> = [];
    for (const release of ['8', '9']) {
      await h.publish(release);
      const { releaseId } = await h.client.startRelease(job());
      const done = await h.client.waitForRelease(releaseId, { pollIntervalMs: 200 });
      assert.equal(done.state, 'succeeded', done.error);
      const steps = Object.fromEntries(done.steps.map((s) => [s.name, `${s.state}: ${s.detail ?? ''}`]));
      runs.push({ releaseId, imageId: done.images[0]!.imageId, steps });
    }
    const [first, second] = runs as [(typeof runs)[0], (typeof runs)[0]];
    assert.equal(first.steps.publish, `succeeded: shared with subscription:${subscription}`);
    assert.equal(first.steps.deprecate, 'succeeded: nothing to deprecate (no earlier release found)');
    assert.equal(second.steps.deprecate, `succeeded: deprecated 2: ${first.imageId}, ${first.imageId}`);
    const gallery = (az.arm.state.galleries() as Json[]).find((g) => g.name === 'pubgallery')!;
    assert.equal(gallery.properties.sharingProfile.permissions, 'Groups');
    assert.deepEqual(gallery.properties.sharingProfile.groups, [{ type: 'Subscriptions', ids: [subscription] }]);
    const version = (name: string) =>
      (az.arm.state.galleryImageVersions() as Json[]).find((v) => String(v.id).includes('/pubgallery/') && v.name === name)!;
    const old = version('2026.02.08').properties.publishingProfile;
    assert.equal(old.excludeFromLatest, true);
    assert.ok(Date.parse(old.endOfLifeDate) <= Date.now());
    assert.equal(version('2026.02.09').properties.publishingProfile.excludeFromLatest, false, 'the new one is latest');
    const line = 'az-pub-2026020{release}-v{date}';
    const catalog = await h.catalog.listImages({ cloud: 'azure', account: 'azure-pub', imageLine: line });
    assert.deepEqual(
      [...new Set(catalog.map((i) => `${i.imageId.split('/').pop()}:${i.state}:${i.visibility}`))].sort(),
      ['2026.02.08:deprecated:shared', '2026.02.09:active:shared'],
    );
    await replayAndRecord(h.client.temporal, second.releaseId, 'release-azure-published');
  });

  it('with on_failure: abort, fails the release naming the region whose replication failed', async () => {
    await h.publish('3');
    az.arm.faults.add({
      operation: 'galleryImageVersions.update',
      kind: 'replication-failed',
      region: 'eastus2',
      message: 'Replication failed: disk copy timed out',
    });
    const { releaseId } = await h.client.startRelease(
      azureTestJob(h.buildServer.url, 'az-repfail', {
        gallery_name: 'imagecastgallery',
        gallery_resource_group: AZURE_GALLERY_GROUP,
        offer_id: 'fail',
        sku: 'gen1',
        additional_regions: ['northeurope', 'eastus2'],
        // mash's behaviour; the default (block) keeps the replicas and waits for a decision.
        on_failure: 'abort',
      }),
    );
    const status = await h.client.waitForRelease(releaseId, { pollIntervalMs: 200 });
    az.arm.faults.clear();
    assert.equal(status.state, 'failed');
    assert.match(
      status.error ?? '',
      /replication of imagecastgallery\/fail_gen1\/.* to eastus2 failed: Replication failed: disk copy timed out/,
    );
    // The saga removed what the release made.
    assert.deepEqual(
      az.arm.state.galleryImageVersions().filter((v) => String(v.id).includes('/fail_gen1/')),
      [],
    );
    assert.deepEqual(await az.blobs(), []);
  });

  it('rides out a storm of 429s with Retry-After', async () => {
    await h.publish('4');
    az.arm.faults.add({
      operation: 'images.createOrUpdate',
      kind: 'http',
      status: 429,
      code: 'TooManyRequests',
      message: 'throttled',
      retryAfterSeconds: 0,
      times: 4,
    });
    const { releaseId } = await h.client.startRelease(
      azureTestJob(h.buildServer.url, 'az-429', { last_service: 'create' }),
    );
    const done = await h.client.waitForRelease(releaseId, { pollIntervalMs: 200 });
    assert.equal(done.state, 'succeeded', done.error);
    assert.equal(az.arm.faults.pending().length, 0, 'every 429 was answered');
    assert.equal(images(done.imageName!).length, 1);
  });

  it("fails fast on AuthorizationFailed with Azure's message and the fix, and the saga removes the blob", async () => {
    await h.publish('5');
    az.arm.faults.add({
      operation: 'images.createOrUpdate',
      kind: 'http',
      status: 403,
      code: 'AuthorizationFailed',
      message:
        "The client 'x' does not have authorization to perform action 'Microsoft.Compute/images/write'",
      times: 5,
    });
    const started = Date.now();
    const { releaseId } = await h.client.startRelease(
      azureTestJob(h.buildServer.url, 'az-denied', { last_service: 'create' }),
    );
    const status = await h.client.waitForRelease(releaseId, { pollIntervalMs: 200 });
    az.arm.faults.clear();
    assert.equal(status.state, 'failed');
    assert.match(
      status.error ?? '',
      /Azure images\.createOrUpdate .* refused: AuthorizationFailed: The client 'x' does not have authorization.* Contributor role/,
    );
    assert.ok(Date.now() - started < 60_000, 'not retried for an hour');
    assert.equal(
      az.arm.state.requests('images.createOrUpdate').filter((r) => r.path.includes('az-denied')).length,
      1,
      'not retried',
    );
    assert.deepEqual(await az.blobs(), []);
    assert.deepEqual(
      az.arm.state.images().filter((i) => String(i.name).startsWith('az-denied')),
      [],
      `resource group ${AZURE_RESOURCE_GROUP} holds nothing of it`,
    );
  });
});
