// Azure's revoke, retry reuse and preflight through the workflows, against Azurite and our
// Resource Manager fake with the official SDK clients: a revoked gallery release leaves
// "latest" and reaches its end of life while the one it replaced is current again (cloud and
// catalog); `job retry` of a terminated release adopts its blob and images and uploads
// nothing; preflight names a container that is not there before anything is sent.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startReleaseHarness, type ReleaseHarness } from '../support/release-harness.js';
import { replayAndRecord } from '../support/replay-history.js';
import {
  AZURE_GALLERY_GROUP,
  azureTestJob,
  startAzureEmulator,
  type AzureEmulator,
} from '../support/azure-emulator.js';
import type { ReleaseStatus } from '../../client/sdk/index.js';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

describe('revoke, retry and preflight on Azure (Azurite + ARM fake)', () => {
  let az: AzureEmulator;
  let h: ReleaseHarness;

  before(async () => {
    az = await startAzureEmulator();
    h = await startReleaseHarness('revoke-azure', {
      queues: ['workflows', 'azure'],
      diskMiB: 8,
      accounts: az.accounts,
      providers: { azure: az.provider() },
    });
  });
  after(async () => {
    await h?.stop();
    await az?.stop();
  });

  const step = (status: ReleaseStatus, name: string) => status.steps.find((s) => s.name === name)!;

  it('revokes a shared gallery release: out of latest with its end of life, the one before current again, catalog says so', async () => {
    const subscription = 'aaaaaaaa-0000-4000-8000-00000000000a';
    const job = () =>
      azureTestJob(h.buildServer.url, 'az-rev', {
        cloud_image_name: 'az-rev-2026030{release}-v{date}',
        gallery_name: 'revgallery',
        gallery_resource_group: AZURE_GALLERY_GROUP,
        offer_id: 'rev',
        sku: 'gen1',
        additional_regions: ['northeurope'],
        partner_center: false,
        share_with: [`subscription:${subscription}`],
        last_service: 'deprecate',
      });
    const released: Array<{ releaseId: string; imageName: string }> = [];
    for (const build of ['1', '2']) {
      await h.publish(build);
      const { releaseId } = await h.client.startRelease(job());
      const done = await h.client.waitForRelease(releaseId, { pollIntervalMs: 200 });
      assert.equal(done.state, 'succeeded', done.error);
      released.push({ releaseId, imageName: done.imageName! });
    }
    const [A, B] = released as [(typeof released)[0], (typeof released)[0]];
    const version = (name: string) =>
      (az.arm.state.galleryImageVersions() as Json[]).find(
        (v) => String(v.id).includes('/revgallery/') && v.name === name,
      )!.properties.publishingProfile as Json;
    assert.equal(version('2026.03.01').excludeFromLatest, true, 'B deprecated A');

    const outcome = await h.client.revokeRelease(B.releaseId, {
      by: 'erin',
      reason: 'bad waagent',
      pollIntervalMs: 200,
    });
    assert.equal(outcome.status.state, 'succeeded', outcome.status.error);
    assert.deepEqual(outcome.result?.withdrawn.map((i) => i.region).sort(), ['northeurope', 'westeurope']);
    assert.deepEqual(outcome.result?.restored.map((i) => i.region).sort(), ['northeurope', 'westeurope']);
    const b = version('2026.03.02');
    assert.equal(b.excludeFromLatest, true, 'B is out of "latest"');
    assert.ok(Date.parse(b.endOfLifeDate) <= Date.now(), 'B has reached its end of life');
    const a = version('2026.03.01');
    assert.equal(a.excludeFromLatest, false, 'A is "latest" again');
    assert.equal(a.endOfLifeDate, undefined, "A's end of life is cleared");
    const gallery = (az.arm.state.galleries() as Json[]).find((g) => g.name === 'revgallery')!;
    assert.deepEqual(
      gallery.properties.sharingProfile.groups,
      [{ type: 'Subscriptions', ids: [subscription] }],
      'the gallery stays shared: A is in it',
    );
    const catalog = await h.catalog.listImages({ cloud: 'azure', account: 'azure-pub' });
    for (const image of catalog.filter((i) => i.imageName === A.imageName))
      assert.equal(image.state, 'active');
    const revoked = catalog.filter((i) => i.imageName === B.imageName);
    assert.equal(revoked.length, 2);
    for (const image of revoked) {
      assert.equal(image.state, 'deprecated');
      assert.equal(image.revokedBy, 'erin');
    }
    await replayAndRecord(h.client.temporal, outcome.revokeId, 'revoke-azure-gallery');

    const patches = az.arm.state.requests('galleryImageVersions.update').length;
    const again = await h.client.revokeRelease(B.releaseId, { by: 'erin', pollIntervalMs: 200 });
    assert.equal(again.result?.alreadyRevoked?.reason, 'bad waagent');
    assert.equal(az.arm.state.requests('galleryImageVersions.update').length, patches, 'nothing changed');
  });

  it('a release terminated while blocked: `job retry` adopts its blob and managed images and uploads nothing', async () => {
    // Copies into northeurope fail: the release blocks after create, keeping what it made.
    az.arm.faults.add({
      operation: 'snapshots.createOrUpdate',
      kind: 'replication-failed',
      region: 'northeurope',
      times: Infinity,
    });
    await h.publish('3');
    const { releaseId } = await h.client.startRelease(
      azureTestJob(h.buildServer.url, 'az-retry', {
        boot_firmware: ['bios', 'uefi'],
        additional_regions: ['northeurope'],
      }),
    );
    const blocked = await h.client.waitForRelease(releaseId, { pollIntervalMs: 200 });
    assert.equal(blocked.state, 'blocked', blocked.error);
    const handle = h.client.temporal.workflow.getHandle(releaseId);
    const earlierRun = (await handle.describe()).runId;
    const blob = `${blocked.imageName}.vhd`;
    assert.ok((await az.blobs()).includes(blob), 'the blocked release keeps its blob');
    const imagePuts = () => az.arm.state.requests('images.createOrUpdate').length;
    const homePuts = imagePuts();

    await handle.terminate('the worker pool was torn down');
    az.arm.faults.clear();
    const { runId } = await h.client.retryRelease(releaseId);
    const done = await h.client.waitForRelease(releaseId, { pollIntervalMs: 200 });
    assert.equal(done.state, 'succeeded', done.error);

    const from = `from the earlier run ${earlierRun}`;
    assert.match(step(done, 'upload').detail!, new RegExp(`^reused \\S+/${blob} ${from}: nothing uploaded$`));
    assert.equal(step(done, 'create').detail, `reused ${done.images[0]!.imageId} ${from} in westeurope`);
    assert.deepEqual(done.reused?.map((r) => `${r.kind}:${r.region}`).sort(), [
      'disk:westeurope',
      'image:westeurope',
    ]);
    // Only the copies in northeurope were made (V1 and V2): nothing at home again.
    assert.equal(imagePuts(), homePuts + 2);
    const images = (az.arm.state.images() as Json[]).filter((i) =>
      String(i.name).startsWith(done.imageName!),
    );
    assert.deepEqual(
      images.map((i) => [i.name, i.tags.imagecastreleasetoken]).sort(),
      [
        [done.imageName, runId],
        [`${done.imageName}-northeurope`, runId],
        [`${done.imageName}_uefi`, runId],
        [`${done.imageName}_uefi-northeurope`, runId],
      ],
      "one image per name, the retry's",
    );
    assert.ok(!(await az.blobs()).includes(blob), "the retry's cleanup removed the adopted blob");
  });

  it('preflight names the upload container that is not there, and nothing is uploaded', async () => {
    await h.publish('4');
    const job = azureTestJob(h.buildServer.url, 'az-pre', {
      source_container: 'no-such-container',
      additional_regions: ['northeurope', 'moonbase1'],
    });
    const result = await h.client.preflight(job);
    assert.deepEqual(
      result.problems.map((p) => `${p.region ?? '-'}:${p.check}`),
      ['moonbase1:region-enabled', '-:bucket'],
    );
    assert.match(result.problems[1]!.message, /ContainerNotFound/);
    assert.match(
      result.problems[1]!.fix,
      /create container "no-such-container" in storage account imagecastsa/,
    );

    const blobsBefore = await az.blobs();
    const { releaseId } = await h.client.startRelease(job);
    const failed = await h.client.waitForRelease(releaseId, { pollIntervalMs: 200 });
    assert.equal(failed.state, 'failed');
    assert.match(failed.error!, /preflight found 2 problems; nothing was uploaded/);
    assert.match(failed.error!, /azure account azure-pub: \[bucket\] the upload's container cannot be used/);
    assert.deepEqual(await az.blobs(), blobsBefore);
  });
});
