// Revoking a release that kept signed image lists (job field image_lists), all real: local
// cloud, the Temporal dev server, PostgreSQL, the openssl CLI signing with a test CA's
// endorser, lists published to a local (file://) target, a webhook receiver. Subscribers'
// checks: openssl smime -verify and our verify, with the previous version.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { startReleaseHarness, type ReleaseHarness } from '../support/release-harness.js';
import { makeTestCa, opensslRun, type TestCa } from '../support/openssl-ca.js';
import { tempDir } from '../support/stack.js';
import { replayAndRecord } from '../support/replay-history.js';
import {
  addImageList,
  operatorListStore,
  testMasterKeys,
  workerImageListDeps,
} from '../support/image-list-setup.js';
import { AuditLog } from '../../activities/accounts/audit-log.js';
import { createNotifier } from '../../activities/common/notify/notifier.js';
import type { ReleaseWebhookBody } from '../../activities/common/notify/release-message.js';
import type { ImageListStore } from '../../activities/common/imagelist/list-store.js';
import { createImageListActivities } from '../../activities/common/imagelist/release-list-activities.js';
import { verifyImageList } from '../../activities/common/imagelist/verify.js';
import {
  imageListPublishMappingSchema,
  type ImageListPublishMapping,
} from '../../schemas/imagelist-publish.js';

const DN = '/C=DE/O=GermanGrid/OU=Imagecast/CN=Revoke Endorser/emailAddress=endorser@example.org';
const LIST_URI = 'https://lists.example.org/imagecast/image.list';
const TITLE = 'Imagecast release images';

type HvImage = Record<string, unknown>;

describe('revoking a release takes it out of its signed image lists (local cloud, file target)', () => {
  const dir = tempDir('revoke-lists');
  const www = join(dir, 'www');
  const listFile = join(www, 'imagecast', 'image.list');
  const master = testMasterKeys(randomBytes(32).toString('base64'));
  // The worker's imagelist_publish config; a test empties it to make publishing fail.
  const mappings: ImageListPublishMapping[] = [];
  const hooks: ReleaseWebhookBody[] = [];
  let receiver: Server;
  let ca: TestCa;
  let h: ReleaseHarness;
  let lists: ImageListStore;
  let listId: string;

  before(async () => {
    receiver = createServer((req, res) => {
      let raw = '';
      req.on('data', (d: Buffer) => (raw += d));
      req.on('end', () => {
        hooks.push(JSON.parse(raw) as ReleaseWebhookBody);
        res.writeHead(204).end();
      });
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    const { port } = receiver.address() as AddressInfo;
    mappings.push(
      imageListPublishMappingSchema.parse({
        uri_match: 'https://lists.example.org/',
        uri_replace: `${pathToFileURL(www).href}/`,
      }),
    );
    ca = makeTestCa(join(dir, 'ca'));
    const endorser = ca.issue('endorser', DN);
    h = await startReleaseHarness('revoke-lists', {
      diskMiB: 4,
      notifier: createNotifier({
        webhooks: [{ url: `http://127.0.0.1:${port}/hooks`, secret: 'revoke-lists-secret-0123456789' }],
      }),
      imageLists: (pool) => workerImageListDeps(pool, master, mappings),
    });
    lists = await operatorListStore(h.pool, master, endorser);
    listId = await addImageList(lists, DN, {
      title: TITLE,
      description: 'Images released by Imagecast',
      uri: LIST_URI,
    });
  });
  after(async () => {
    await h?.stop();
    await new Promise((resolve) => receiver?.close(resolve));
  });

  /** The published list as a subscriber gets it, accepted by openssl and by our verify (not older than `previousVersion`). */
  async function fetchVerified(previousVersion?: string) {
    const signed = readFileSync(listFile);
    const content = opensslRun(['smime', '-verify', '-in', listFile, '-CAfile', ca.certPath]);
    const verified = await verifyImageList(signed, {
      caFile: ca.certPath,
      identifier: listId,
      now: new Date(),
      ...(previousVersion && { previousVersion }),
    });
    assert.deepEqual(verified.problems, [], 'our verify accepts it');
    const body = JSON.parse(content)['hv:imagelist'] as Record<string, unknown>;
    const images = (body['hv:images'] as Array<{ 'hv:image': HvImage }>).map((i) => i['hv:image']);
    return { signed, version: String(body['hv:version']), images };
  }

  /** Releases one build of a line (two regions), optionally keeping the list; returns its status. */
  async function release(line: string, build: string, keepList: boolean) {
    await h.publish(build);
    const { releaseId } = await h.client.startRelease(
      h.job({
        cloud_image_name: `${line}-v{date}-b{release}`,
        additional_regions: ['region-2'],
        ...(keepList && { image_lists: [TITLE] }),
      }),
    );
    const done = await h.client.waitForRelease(releaseId, { pollIntervalMs: 200 });
    assert.equal(done.state, 'succeeded', done.error);
    return done;
  }

  const entriesOf = async (releaseToken: string) =>
    (
      await h.pool.query('SELECT list_identifier FROM imagelist_release_entries WHERE release_token = $1', [
        releaseToken,
      ])
    ).rowCount;
  const tokenOf = async (imageName: string) =>
    (await h.catalog.listImages({ cloud: 'local', account: 'test' })).find((i) => i.imageName === imageName)!
      .releaseToken;

  it('revokes B: its entry leaves the list, which is signed and published again with a higher version; the other line stays', async () => {
    const other = await release('revlist-other', '1', true);
    const A = await release('revlist', '2', true);
    const B = await release('revlist', '3', true);
    assert.equal(B.deprecated.length, 2, 'B deprecated A');
    const before = await fetchVerified();
    assert.deepEqual(
      before.images.map((i) => i['dc:title']).sort(),
      [B.imageName, other.imageName].sort(),
      'B replaced A in the list',
    );
    const bToken = await tokenOf(B.imageName);
    assert.equal(await entriesOf(bToken), 1);

    const outcome = await h.client.revokeRelease(B.releaseId, {
      by: 'alice',
      reason: 'kernel regression',
      pollIntervalMs: 200,
    });
    assert.equal(outcome.status.state, 'succeeded', outcome.status.error);
    assert.deepEqual(
      outcome.result?.restored.map((i) => i.imageName),
      [A.imageName, A.imageName],
    );
    const after = await fetchVerified(before.version);
    assert.notEqual(after.version, before.version);
    assert.equal(after.version, '0.0.4', 'hv:version went up (other, A, B, then the revoke)');
    assert.deepEqual(
      after.images.map((i) => i['dc:title']),
      [other.imageName],
      "B's entry is gone, the other line's stays, A's is not put back",
    );
    assert.deepEqual(
      outcome.result?.imageLists?.map((l) => [l.identifier, l.title, l.version, l.images, l.uri]),
      [[listId, TITLE, '0.0.4', 1, LIST_URI]],
    );
    assert.deepEqual(outcome.status.imageLists, outcome.result?.imageLists);
    assert.match(
      outcome.status.steps.find((s) => s.name === 'withdraw')!.detail!,
      new RegExp(
        `; image lists published without it: ${TITLE} 0\\.0\\.4 \\(1 image\\(s\\)\\); the entry of the release it had replaced is not put back`,
      ),
    );
    assert.deepEqual(
      (await lists.get(listId)).images.map((i) => i['dc:title']),
      [other.imageName],
      'and in the store',
    );
    assert.equal(await entriesOf(bToken), 0, "the revoked release's entry is forgotten");
    const audit = await new AuditLog(h.pool).entries({
      subject: `imagelist:${listId}`,
      action: 'imagelist.update',
    });
    assert.ok(
      audit.some((e) => String(e.detail?.change).endsWith(`its release ${B.releaseId} was revoked`)),
      'the removal is audited',
    );
    // The release.revoked notification names the list and the version published.
    const hook = hooks.find((k) => k.event === 'release.revoked' && k.releaseId === B.releaseId);
    assert.deepEqual(
      hook?.revoke?.imageLists.map((l) => [l.identifier, l.version, l.images]),
      [[listId, '0.0.4', 1]],
    );
    await replayAndRecord(h.client.temporal, outcome.revokeId, 'revoke-local-image-lists');

    // Revoking again changes nothing, the list included.
    const again = await h.client.revokeRelease(B.releaseId, { by: 'bob', pollIntervalMs: 200 });
    assert.equal(again.status.state, 'succeeded', again.status.error);
    assert.ok(again.result?.alreadyRevoked);
    assert.equal(again.result?.imageLists, undefined);
    assert.deepEqual(readFileSync(listFile), after.signed, 'the list is not published again');
  });

  it('a revoke whose list cannot be published fails saying so; revoking again publishes the list without the release', async () => {
    const C = await release('revlist-fail', '4', true);
    const before = await fetchVerified();
    assert.ok(before.images.some((i) => i['dc:title'] === C.imageName));
    const saved = mappings.splice(0);
    const failed = await h.client
      .revokeRelease(C.releaseId, { by: 'carol', pollIntervalMs: 200 })
      .finally(() => mappings.push(...saved));
    assert.equal(failed.status.state, 'failed');
    assert.match(failed.status.error ?? '', /no upload target for hv:uri/);
    assert.equal(
      failed.status.steps.find((s) => s.name === 'withdraw')!.state,
      'succeeded',
      'the images are withdrawn',
    );
    assert.deepEqual(readFileSync(listFile), before.signed, 'the published list did not change');

    const again = await h.client.revokeRelease(C.releaseId, { by: 'carol', pollIntervalMs: 200 });
    assert.equal(again.status.state, 'succeeded', again.status.error);
    assert.ok(again.result?.alreadyRevoked, 'the images were revoked by the first run');
    const after = await fetchVerified(before.version);
    assert.notEqual(after.version, before.version);
    assert.ok(!after.images.some((i) => i['dc:title'] === C.imageName), "C's entry is gone");
    assert.deepEqual(
      again.result?.imageLists?.map((l) => [l.identifier, l.version]),
      [[listId, after.version]],
    );
    assert.equal(await entriesOf(await tokenOf(C.imageName)), 0);
  });

  it('a revoke of a release that kept no list leaves every list as it was', async () => {
    const D = await release('revlist-none', '5', false);
    const before = await fetchVerified();
    const stored = await lists.get(listId);
    const outcome = await h.client.revokeRelease(D.releaseId, { by: 'dave', pollIntervalMs: 200 });
    assert.equal(outcome.status.state, 'succeeded', outcome.status.error);
    assert.equal(outcome.result?.withdrawn.length, 2);
    assert.equal(outcome.result?.imageLists, undefined);
    assert.equal(outcome.status.imageLists, undefined);
    assert.doesNotMatch(outcome.status.steps.find((s) => s.name === 'withdraw')!.detail!, /image list/);
    assert.deepEqual(readFileSync(listFile), before.signed, 'the published list is the same bytes');
    const now = await lists.get(listId);
    assert.equal(now.version, stored.version);
    assert.deepEqual(now.images, stored.images);
    const hook = hooks.find((k) => k.event === 'release.revoked' && k.releaseId === D.releaseId);
    assert.deepEqual(hook?.revoke?.imageLists, []);
  });

  it("deprecation's list publish that fails leaves the entry, so the activity's retry publishes the list without the image", async () => {
    const E = await release('deplist-retry', '6', true);
    const before = await fetchVerified();
    assert.ok(before.images.some((i) => i['dc:title'] === E.imageName));
    const images = (await h.catalog.listImages({ cloud: 'local', account: 'test' }))
      .filter((i) => i.imageName === E.imageName)
      .map((i) => ({ region: i.region, imageId: i.imageId, imageName: i.imageName }));
    assert.equal(images.length, 2);
    const token = await tokenOf(E.imageName);
    // The worker's own activity, as the deprecate step calls it, twice: an attempt and its retry.
    const activities = createImageListActivities(workerImageListDeps(h.pool, master, mappings));
    const saved = mappings.splice(0);
    await assert.rejects(
      activities
        .removeDeprecatedFromLists({ cloud: 'local', account: 'test', images })
        .finally(() => mappings.push(...saved)),
      /no upload target for hv:uri/,
    );
    assert.deepEqual(readFileSync(listFile), before.signed, 'the published list did not change');
    assert.equal(await entriesOf(token), 1, 'the entry is kept until the list is published without it');

    const published = await activities.removeDeprecatedFromLists({ cloud: 'local', account: 'test', images });
    const after = await fetchVerified(before.version);
    assert.ok(!after.images.some((i) => i['dc:title'] === E.imageName), "E's image left the published list");
    assert.deepEqual(
      published.map((p) => [p.identifier, p.version]),
      [[listId, after.version]],
    );
    assert.equal(await entriesOf(token), 0);
    assert.deepEqual(
      await activities.removeDeprecatedFromLists({ cloud: 'local', account: 'test', images }),
      [],
    );
  });
});
