// Issue 14 on GCE, against fake-gcs-server (behind our resume shim) and our Compute Engine
// fake, driven by the official clients: revoking a release (IAM binding off, DEPRECATED; the
// image it replaced ACTIVE again), `job retry` of a terminated release adopting its tarball and
// image (nothing uploaded), and the preflight naming a bucket that does not exist.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startReleaseHarness, type ReleaseHarness } from '../support/release-harness.js';
import { replayAndRecord } from '../support/replay-history.js';
import { gceTestJob, startGceEmulator, PUBLISH_PROJECT, type GceEmulator } from '../support/gce-emulator.js';
import type { ReleaseStatus } from '../../client/sdk/index.js';

const IMAGE_USER = 'roles/compute.imageUser';

describe('GCE revoke, retry reuse and preflight (fake-gcs-server + Compute fake)', () => {
  let g: GceEmulator;
  let h: ReleaseHarness;

  before(async () => {
    g = await startGceEmulator('gce-revoke');
    h = await startReleaseHarness('gce-revoke', {
      queues: ['workflows', 'gce'],
      diskMiB: 8,
      accounts: g.accounts,
      providers: { gce: g.provider() },
    });
  });
  after(async () => {
    await h?.stop();
    await g?.stop();
  });

  const job = (name: string, overrides: Record<string, unknown> = {}) =>
    gceTestJob(h.buildServer.url, name, {
      last_service: 'deprecate',
      utctime: 'now',
      tests: [],
      share_with: 'all',
      ...overrides,
    });
  const release = async (build: string, name: string, overrides: Record<string, unknown> = {}) => {
    await h.publish(build);
    const { releaseId } = await h.client.startRelease(job(name, overrides));
    const status = await h.client.waitForRelease(releaseId, { pollIntervalMs: 200 });
    assert.equal(status.state, 'succeeded', status.error);
    return { releaseId, status };
  };
  const image = (name: string) => g.images(PUBLISH_PROJECT).find((i) => i.name === name);
  const imageUsers = async (name: string) =>
    (await g.iamPolicy(PUBLISH_PROJECT, name)).bindings?.find((b) => b.role === IMAGE_USER)?.members ?? [];
  const step = (status: ReleaseStatus, name: string) => status.steps.find((s) => s.name === name)!;

  it('revokes B: its imageUser binding gone and DEPRECATED, the image it replaced ACTIVE again; twice is harmless', async () => {
    const A = await release('1', 'gce-rev-a');
    const B = await release('2', 'gce-rev-b', { old_cloud_image_name: A.status.imageName });
    assert.equal(image(A.status.imageName)?.deprecated?.state, 'DEPRECATED', 'B deprecated A');
    assert.deepEqual(await imageUsers(B.status.imageName), ['allAuthenticatedUsers']);

    const outcome = await h.client.revokeRelease(B.releaseId, {
      by: 'erin',
      reason: 'bad guest agent',
      pollIntervalMs: 200,
    });
    assert.equal(outcome.status.state, 'succeeded', outcome.status.error);
    assert.deepEqual(
      outcome.result?.withdrawn.map((i) => i.imageId),
      [B.status.imageName],
    );
    assert.deepEqual(
      outcome.result?.restored.map((i) => i.imageId),
      [A.status.imageName],
    );

    const b = image(B.status.imageName)!;
    assert.deepEqual(await imageUsers(B.status.imageName), [], 'nobody new may use B');
    assert.equal(b.deprecated?.state, 'DEPRECATED');
    assert.equal(
      b.deprecated?.replacement,
      `https://www.googleapis.com/compute/v1/projects/${PUBLISH_PROJECT}/global/images/${A.status.imageName}`,
    );
    assert.ok(b.deprecated?.deprecated && Date.parse(b.deprecated.deprecated) <= Date.now());
    const a = image(A.status.imageName)!;
    assert.equal(a.deprecated, undefined, 'A is ACTIVE again');
    assert.deepEqual(await imageUsers(A.status.imageName), ['allAuthenticatedUsers'], 'A shared as before');

    const catalog = await h.catalog.listImages({ cloud: 'gce', account: 'gce-pub' });
    assert.equal(catalog.find((i) => i.imageName === A.status.imageName)?.state, 'active');
    const revoked = catalog.find((i) => i.imageName === B.status.imageName);
    assert.equal(revoked?.state, 'deprecated');
    assert.equal(revoked?.revokedBy, 'erin');
    assert.equal(revoked?.revokeReason, 'bad guest agent');

    await replayAndRecord(h.client.temporal, outcome.result!.revokeId, 'revoke-gce');

    const calls = g.calls('images.deprecate').length + g.calls('images.setIamPolicy').length;
    const again = await h.client.revokeRelease(B.releaseId, { by: 'erin', pollIntervalMs: 200 });
    assert.equal(again.result?.alreadyRevoked?.reason, 'bad guest agent');
    assert.equal(
      g.calls('images.deprecate').length + g.calls('images.setIamPolicy').length,
      calls,
      'the second revoke changed nothing',
    );
  });

  it('a release terminated while blocked on publish: the retry adopts its tarball and image and uploads nothing', async () => {
    // Sharing is refused: the release blocks on publish, keeping the tarball and the image.
    g.compute.faults.add({
      method: 'images.setIamPolicy',
      kind: 'http',
      status: 403,
      reason: 'forbidden',
      message: 'Required setIamPolicy permission',
      times: Infinity,
    });
    await h.publish('3');
    const { releaseId } = await h.client.startRelease(job('gce-reuse', { last_service: 'publish' }));
    const blocked = await h.client.waitForRelease(releaseId, { pollIntervalMs: 200 });
    assert.equal(blocked.state, 'blocked', blocked.error);
    const handle = h.client.temporal.workflow.getHandle(releaseId);
    const earlierRun = (await handle.describe()).runId;
    const { imageName } = blocked;
    const tarball = `gs://pub-images/${imageName}.tar.gz`;
    assert.ok((await g.objects('pub-images')).includes(`${imageName}.tar.gz`), 'the tarball is there');
    assert.equal(image(imageName)?.labels?.['imagecast-release-token'], earlierRun);
    const inserts = g.calls('images.insert').length;
    const uploads = g.gcs.shim.sessionsStarted;

    await handle.terminate('the worker pool was torn down');
    g.compute.faults.clear();
    const { runId } = await h.client.retryRelease(releaseId);
    const done = await h.client.waitForRelease(releaseId, { pollIntervalMs: 200 });
    assert.equal(done.state, 'succeeded', done.error);

    const from = `from the earlier run ${earlierRun}`;
    assert.equal(step(done, 'upload').detail, `reused ${tarball} ${from}: nothing uploaded`);
    assert.equal(step(done, 'create').detail, `reused ${imageName} ${from} in global`);
    assert.deepEqual(done.reused?.map((r) => `${r.kind}:${r.id}:${r.fromRun}`).sort(), [
      `disk:${tarball}:${earlierRun}`,
      `image:${imageName}:${earlierRun}`,
    ]);
    assert.equal(g.gcs.shim.sessionsStarted, uploads, 'no upload session was started');
    assert.equal(g.calls('images.insert').length, inserts, 'no image was inserted');
    const adopted = image(imageName)!;
    assert.equal(adopted.labels?.['imagecast-release-token'], runId, "the image is the retry's");
    assert.equal(adopted.labels?.['imagecast-reused-from'], earlierRun);
    assert.deepEqual(await imageUsers(imageName), ['allAuthenticatedUsers'], 'the retry published it');
    assert.equal(
      (await g.objects('pub-images')).includes(`${imageName}.tar.gz`),
      false,
      "the retry's cleanup removed the tarball",
    );
  });

  it('the preflight names a bucket that does not exist, before anything is uploaded', async () => {
    await h.publish('4');
    const uploads = g.gcs.shim.sessionsStarted;
    const { releaseId } = await h.client.startRelease(job('gce-nobucket', { bucket: 'no-such-bucket' }));
    const status = await h.client.waitForRelease(releaseId, { pollIntervalMs: 200 });
    assert.equal(status.state, 'failed');
    assert.match(status.error ?? '', /preflight found 1 problem; nothing was uploaded/);
    assert.match(
      status.error ?? '',
      /gce account gce-pub: \[bucket\] the bucket gs:\/\/no-such-bucket does not exist \(HTTP 404\)\. Fix: create it/,
    );
    assert.equal(g.gcs.shim.sessionsStarted, uploads);
  });
});
