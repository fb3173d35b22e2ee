// GCE releases against fake-gcs-server (behind our resume shim) and our Compute Engine fake,
// driven by the official clients over HTTP: the whole pipeline, a lost insert answer, quota,
// zone capacity (the worker killed mid-upload is gce-worker-crash.test.ts).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startReleaseHarness, type ReleaseHarness } from '../support/release-harness.js';
import { replayAndRecord } from '../support/replay-history.js';
import { gceTestJob, startGceEmulator, PUBLISH_PROJECT, TESTING_PROJECT, type GceEmulator } from '../support/gce-emulator.js';

describe('release workflow on GCE (fake-gcs-server + Compute fake)', () => {
  let g: GceEmulator;
  let h: ReleaseHarness;

  before(async () => {
    g = await startGceEmulator('release-gce');
    h = await startReleaseHarness('release-gce', {
      queues: ['workflows', 'gce'],
      diskMiB: 24,
      accounts: g.accounts,
      providers: { gce: g.provider() },
    });
  });
  after(async () => {
    await h?.stop();
    await g?.stop();
  });

  const gceJob = (name: string, overrides: Record<string, unknown> = {}) =>
    gceTestJob(h.buildServer.url, name, {
      last_service: 'deprecate',
      utctime: 'now',
      guest_os_features: ['GVNIC', 'VIRTIO_SCSI_MULTIQUEUE'],
      licenses: ['projects/imagecast-publish/global/licenses/imagecast-test'],
      boot_firmware: ['uefi'],
      image_project: PUBLISH_PROJECT,
      region: 'us-east1-c',
      test_fallback_regions: ['us-east1-b'],
      tests: ['test_sles'],
      share_with: 'all',
      months_to_deletion: 3,
      ...overrides,
    });

  const inserted = (name: string) => g.calls('images.insert').filter((r) => (r.body as { name?: string }).name === name);

  it('uploads the tarball, creates, tests in the testing project, shares, and the next release deprecates it', async () => {
    await h.publish('1');
    const { releaseId } = await h.client.startRelease(gceJob('gce-full'));
    const done = await h.client.waitForRelease(releaseId, { pollIntervalMs: 200 });
    assert.equal(done.state, 'succeeded', done.error);
    assert.deepEqual(
      done.steps.map((s) => `${s.name}:${s.state}`),
      ['download:succeeded', 'upload:succeeded', 'create:succeeded', 'test:succeeded', 'raw_image_upload:skipped', 'replicate:skipped', 'publish:succeeded', 'deprecate:succeeded', 'cleanup:succeeded'],
    );
    assert.match(done.steps.find((s) => s.name === 'replicate')!.detail ?? '', /GCE images are global/);
    assert.match(done.steps.find((s) => s.name === 'test')!.detail ?? '', /skipped|fake|no operating system/i);
    assert.deepEqual(done.images.map((i) => i.region), ['global']);

    const [image] = g.images(PUBLISH_PROJECT).filter((i) => i.name === done.imageName);
    assert.ok(image, 'the image is in the publishing project');
    assert.equal(image.status, 'READY');
    assert.equal(image.family, 'imagecast-test');
    assert.equal(image.architecture, 'X86_64');
    assert.deepEqual(image.guestOsFeatures?.map((f) => f.type), ['GVNIC', 'VIRTIO_SCSI_MULTIQUEUE', 'UEFI_COMPATIBLE']);
    // GCE answers with the license's full URL whichever form was sent.
    assert.deepEqual(image.licenses, ['https://www.googleapis.com/compute/v1/projects/imagecast-publish/global/licenses/imagecast-test']);
    assert.deepEqual((inserted(done.imageName)[0]!.body as { licenses?: string[] }).licenses, ['projects/imagecast-publish/global/licenses/imagecast-test']);
    assert.equal(image.rawDisk?.source, `https://storage.googleapis.com/pub-images/${done.imageName}.tar.gz`);
    assert.equal(image.diskSizeGb, '1', 'the 24 MiB disk was padded to 1 GiB in the tarball');
    assert.ok(image.labels?.['imagecast-release-token']);
    // Shared with every authenticated user; the tarball went with cleanup.
    const policy = await g.iamPolicy(PUBLISH_PROJECT, done.imageName);
    assert.deepEqual(policy.bindings?.find((b) => b.role === 'roles/compute.imageUser')?.members, ['allAuthenticatedUsers']);
    assert.deepEqual(await g.objects('pub-images'), []);
    // The test ran in the testing project and left nothing behind.
    const inserts = g.calls('instances.insert');
    assert.equal(inserts.length, 1);
    assert.equal(inserts[0]!.project, TESTING_PROJECT);
    assert.match(JSON.stringify(inserts[0]!.body), /ssh-keys/);
    assert.deepEqual(g.compute.state.instances(TESTING_PROJECT), []);
    assert.deepEqual(g.compute.state.firewalls(TESTING_PROJECT), []);
    await replayAndRecord(h.client.temporal, releaseId, 'release-gce-full');

    await h.publish('2');
    const second = await h.client.startRelease(gceJob('gce-full-next', { old_cloud_image_name: done.imageName }));
    const next = await h.client.waitForRelease(second.releaseId, { pollIntervalMs: 200 });
    assert.equal(next.state, 'succeeded', next.error);
    assert.equal(next.deprecated.length, 1);
    const old = g.images(PUBLISH_PROJECT).find((i) => i.name === done.imageName)!;
    assert.equal(old.deprecated?.state, 'DEPRECATED');
    assert.equal(old.deprecated?.replacement, `https://www.googleapis.com/compute/v1/projects/${PUBLISH_PROJECT}/global/images/${next.imageName}`);
    const deleteAfter = new Date(old.deprecated!.deleted!);
    const months = (deleteAfter.getUTCFullYear() - new Date().getUTCFullYear()) * 12 + deleteAfter.getUTCMonth() - new Date().getUTCMonth();
    assert.equal(months, 3);
    const [retired] = await h.catalog.listImages({ cloud: 'gce', account: 'gce-pub', state: 'deprecated' });
    assert.equal(retired?.deleteAfter?.toISOString(), deleteAfter.toISOString());
    await replayAndRecord(h.client.temporal, second.releaseId, 'release-gce-deprecates');
  });

  it('makes one image when the answer to images.insert is lost and the activity is retried', async () => {
    await h.publish('3');
    g.compute.faults.add({ method: 'images.insert', kind: 'drop-response', times: 1 });
    const { releaseId } = await h.client.startRelease(gceJob('gce-lost', { last_service: 'create', tests: [] }));
    const done = await h.client.waitForRelease(releaseId, { pollIntervalMs: 200 });
    assert.equal(done.state, 'succeeded', done.error);
    // The retried activity finds the image by its run token before it would insert again; an
    // insert that still goes out (image not visible yet) carries the same requestId.
    const inserts = inserted(done.imageName);
    assert.ok(inserts.length >= 1 && inserts.length <= 2, `${inserts.length} inserts`);
    assert.equal(new Set(inserts.map((r) => r.query.requestId)).size, 1, 'one requestId');
    assert.ok(g.calls('images.get').length > 0);
    assert.equal(g.images(PUBLISH_PROJECT).filter((i) => i.name === done.imageName).length, 1);
  });

  it('fails fast on QUOTA_EXCEEDED with Google\'s message, and the saga removes the tarball', async () => {
    await h.publish('4');
    g.compute.faults.add({ method: 'images.insert', kind: 'operation-error', code: 'QUOTA_EXCEEDED', message: "Quota 'IMAGES' exceeded. Limit: 100.0 globally.", times: 5 });
    const started = Date.now();
    const { releaseId } = await h.client.startRelease(gceJob('gce-quota'));
    const status = await h.client.waitForRelease(releaseId, { pollIntervalMs: 200 });
    g.compute.faults.clear();
    assert.equal(status.state, 'failed');
    assert.match(status.error ?? '', /GCE images\.insert .* refused: QUOTA_EXCEEDED: Quota 'IMAGES' exceeded/);
    assert.ok(Date.now() - started < 60_000, 'no retries for an hour');
    const inserts = g.calls('images.insert').filter((r) => String((r.body as { name?: string }).name).startsWith('gce-quota'));
    assert.equal(inserts.length, 1, 'not retried');
    assert.deepEqual((await g.objects('pub-images')).filter((o) => o.startsWith('gce-quota')), []);
  });

  it('a scheduled retirement deletes an image past the deletion date months_to_deletion gave it (a dry run first)', async () => {
    await h.publish('6');
    const first = await h.client.startRelease(gceJob('gce-ret', { last_service: 'publish', tests: [] }));
    const old = await h.client.waitForRelease(first.releaseId, { pollIntervalMs: 200 });
    assert.equal(old.state, 'succeeded', old.error);
    await h.publish('7');
    const second = await h.client.startRelease(
      gceJob('gce-ret-next', { tests: [], old_cloud_image_name: old.imageName, months_to_deletion: 0 }),
    );
    const next = await h.client.waitForRelease(second.releaseId, { pollIntervalMs: 200 });
    assert.equal(next.state, 'succeeded', next.error);
    assert.equal(g.images(PUBLISH_PROJECT).find((i) => i.name === old.imageName)?.deprecated?.state, 'DEPRECATED');

    const policy = { cloud: 'gce', account: 'gce-pub', image_line: 'gce-ret-v{date}', keep: 1 };
    await h.client.schedules.create({ ...policy, dry_run: true }, { every: '1d', scheduleId: 'gce-retire-dry' });
    const dry = await h.client.schedules.trigger('gce-retire-dry');
    assert.deepEqual(dry.planned?.delete.map((i) => i.imageName), [old.imageName]);
    assert.ok(g.images(PUBLISH_PROJECT).some((i) => i.name === old.imageName), 'a dry run deletes nothing');

    await h.client.schedules.create(policy, { every: '1d', scheduleId: 'gce-retire' });
    const run = await h.client.schedules.trigger('gce-retire');
    assert.deepEqual(run.deleted.map((i) => i.imageName), [old.imageName]);
    assert.equal(g.images(PUBLISH_PROJECT).some((i) => i.name === old.imageName), false, 'gone from GCE');
    const [deleted] = await h.catalog.listImages({ cloud: 'gce', account: 'gce-pub', imageLine: 'gce-ret-v{date}', state: 'deleted' });
    assert.equal(deleted?.imageName, old.imageName);
    assert.ok(g.images(PUBLISH_PROJECT).some((i) => i.name === next.imageName), 'the replacement stays');
    for (const id of ['gce-retire-dry', 'gce-retire']) await h.client.schedules.delete(id);
  });

  it('tests in the fallback zone when the test zone has no capacity', async () => {
    await h.publish('5');
    g.compute.faults.add({ method: 'instances.insert', zone: 'us-east1-c', kind: 'operation-error', code: 'ZONE_RESOURCE_POOL_EXHAUSTED', message: 'The zone does not have enough resources' });
    const { releaseId } = await h.client.startRelease(gceJob('gce-zone', { last_service: 'test' }));
    const status = await h.client.waitForRelease(releaseId, { pollIntervalMs: 200 });
    g.compute.faults.clear();
    assert.equal(status.state, 'succeeded', status.error);
    const zones = g.calls('instances.insert').filter((r) => r.project === TESTING_PROJECT).map((r) => r.zone);
    assert.deepEqual(zones.slice(-2), ['us-east1-c', 'us-east1-b']);
    assert.deepEqual(g.compute.state.instances(TESTING_PROJECT), []);
  });
});
