// Revoking a published release on the local cloud (real dev server, PostgreSQL, local cloud):
// release A, then release B of the same image line (B deprecates A); revoke B: B is unshared
// and deprecated, A is current again, in the cloud and in the catalog, with who and why audited,
// and the worker's webhook (a real HTTP receiver) is told `release.revoked`.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { startReleaseHarness, type ReleaseHarness } from '../support/release-harness.js';
import { replayAndRecord } from '../support/replay-history.js';
import { AuditLog } from '../../activities/accounts/audit-log.js';
import { RevokeRefusedError, type ReleaseStatus } from '../../client/sdk/index.js';
import { createNotifier } from '../../activities/common/notify/notifier.js';
import { verifyWebhookSignature } from '../../activities/common/notify/webhook.js';
import type { ReleaseWebhookBody } from '../../activities/common/notify/release-message.js';

const REGIONS = ['region-1', 'region-2', 'region-3', 'region-4'];
const SECRET = 'revoke-webhook-secret-for-tests-0123';

interface Hook {
  event: string;
  body: ReleaseWebhookBody;
  signed: boolean;
}

describe('revoking a release on the local cloud', () => {
  let h: ReleaseHarness;
  let receiver: Server;
  const hooks: Hook[] = [];
  before(async () => {
    receiver = createServer((req, res) => {
      let raw = '';
      req.on('data', (d: Buffer) => (raw += d));
      req.on('end', () => {
        hooks.push({
          event: String(req.headers['x-imagecast-event']),
          body: JSON.parse(raw) as ReleaseWebhookBody,
          signed: verifyWebhookSignature(
            SECRET,
            String(req.headers['x-imagecast-timestamp']),
            raw,
            String(req.headers['x-imagecast-signature']),
          ),
        });
        res.writeHead(204).end();
      });
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    const { port } = receiver.address() as AddressInfo;
    h = await startReleaseHarness('revoke', {
      // Webhooks only: the test jobs ask for no email, and the releases themselves do not notify.
      notifier: createNotifier({ webhooks: [{ url: `http://127.0.0.1:${port}/hooks`, secret: SECRET }] }),
    });
  });
  after(async () => {
    await h?.stop();
    await new Promise((resolve) => receiver?.close(resolve));
  });
  const hooksAbout = (releaseId: string) => hooks.filter((k) => k.body.releaseId === releaseId);

  const imageIn = (region: string, imageName: string) =>
    h.imagesIn(region).find((i) => i.imageName === imageName)!;
  const catalogOf = async (imageName: string) =>
    (await h.catalog.listImages({ cloud: 'local', account: 'test' })).filter(
      (i) => i.imageName === imageName,
    );

  /** Release A (build `a`) then B (build `b`) of one line: same release id (one line, one day), B deprecates A. */
  async function releaseAThenB(
    line: string,
    a: string,
    b: string,
  ): Promise<{ releaseId: string; A: ReleaseStatus; B: ReleaseStatus }> {
    const job = h.job({ cloud_image_name: `${line}-v{date}-b{release}` });
    await h.publish(a);
    const first = await h.client.startRelease(job);
    const A = await h.client.waitForRelease(first.releaseId, { pollIntervalMs: 200 });
    assert.equal(A.state, 'succeeded', A.error);
    await h.publish(b);
    const second = await h.client.startRelease(job);
    const B = await h.client.waitForRelease(second.releaseId, { pollIntervalMs: 200 });
    assert.equal(B.state, 'succeeded', B.error);
    assert.equal(B.deprecated.length, 4, 'B deprecated A in every region');
    return { releaseId: second.releaseId, A, B };
  }

  it('revokes B: B unshared and deprecated, A current and public again, in the cloud and the catalog; a second revoke says already revoked', async () => {
    const { releaseId, A, B } = await releaseAThenB('revoked', '11', '12');
    const outcome = await h.client.revokeRelease(releaseId, {
      by: 'alice',
      reason: 'kernel regression',
      pollIntervalMs: 200,
    });
    assert.equal(outcome.status.state, 'succeeded', outcome.status.error);
    assert.deepEqual(
      outcome.status.steps.map((s) => `${s.name}:${s.state}`),
      ['withdraw:succeeded', 'restore:succeeded'],
    );
    assert.deepEqual(
      outcome.result?.withdrawn.map((i) => i.imageName),
      Array(4).fill(B.imageName),
    );
    assert.deepEqual(
      outcome.result?.restored.map((i) => i.imageName),
      Array(4).fill(A.imageName),
    );
    for (const region of REGIONS) {
      const a = imageIn(region, A.imageName);
      const b = imageIn(region, B.imageName);
      assert.equal(a.state, 'available', `A current again in ${region}`);
      assert.equal(a.visibility, 'public', `A shared as before in ${region}`);
      assert.equal(a.replacement, undefined);
      assert.equal(b.state, 'deprecated', `B deprecated in ${region}`);
      assert.equal(b.visibility, 'private', `B unshared in ${region}`);
      assert.equal((b.replacement as { imageId: string }).imageId, a.imageId, `B points at A in ${region}`);
    }
    for (const a of await catalogOf(A.imageName)) {
      assert.equal(a.state, 'active');
      assert.equal(a.replacementImageId, undefined);
      assert.equal(a.revokedAt, undefined);
    }
    const revoked = await catalogOf(B.imageName);
    assert.equal(revoked.length, 4);
    for (const b of revoked) {
      assert.equal(b.state, 'deprecated');
      assert.equal(b.visibility, 'private');
      assert.equal(b.revokedBy, 'alice');
      assert.equal(b.revokeReason, 'kernel regression');
      assert.ok(b.revokedAt instanceof Date);
    }
    const audit = await new AuditLog(h.pool).entries({
      subject: `release:${releaseId}`,
      action: 'release.revoke',
    });
    assert.equal(audit.length, 1);
    assert.equal(audit[0]!.actor, 'alice');
    assert.equal(audit[0]!.outcome, 'ok');
    assert.equal(audit[0]!.detail?.reason, 'kernel regression');
    // The webhook is told the release was revoked: by whom, why, what went and what is current again.
    const told = hooksAbout(releaseId);
    assert.deepEqual(
      told.map((k) => k.event),
      ['release.revoked'],
    );
    const hook = told[0]!;
    assert.ok(hook.signed, 'signed with the webhook secret');
    assert.equal(hook.body.event, 'release.revoked');
    assert.equal(hook.body.state, 'succeeded');
    assert.equal(hook.body.imageName, B.imageName);
    assert.deepEqual(hook.body.revoke && { ...hook.body.revoke, withdrawn: [], restored: [] }, {
      releaseId,
      revokeId: outcome.revokeId,
      by: 'alice',
      reason: 'kernel regression',
      withdrawn: [],
      restored: [],
      skippedRegions: [],
      imageLists: [],
    });
    const byRegion = (images: Array<{ region: string; imageId: string }>) =>
      images.map((i) => `${i.region}:${i.imageId}`).sort();
    assert.deepEqual(byRegion(hook.body.revoke!.withdrawn), byRegion(B.images));
    assert.deepEqual(byRegion(hook.body.revoke!.restored), byRegion(A.images));
    assert.equal(
      outcome.status.notification,
      `sent to http://127.0.0.1:${(receiver.address() as AddressInfo).port}/…`,
    );
    await replayAndRecord(h.client.temporal, outcome.revokeId, 'revoke-local-notified');

    // Idempotent: the same revoke again changes nothing and says the release is revoked already.
    const again = await h.client.revokeRelease(releaseId, {
      by: 'bob',
      reason: 'double check',
      pollIntervalMs: 200,
    });
    assert.equal(again.status.state, 'succeeded', again.status.error);
    assert.equal(again.result?.alreadyRevoked?.by, 'alice');
    assert.equal(again.result?.alreadyRevoked?.reason, 'kernel regression');
    assert.deepEqual(again.result?.withdrawn, []);
    assert.match(
      again.status.steps[0]!.detail!,
      /is already revoked \(at .* by alice: kernel regression\); nothing changed/,
    );
    for (const region of REGIONS) assert.equal(imageIn(region, A.imageName).state, 'available');
    for (const b of await catalogOf(B.imageName))
      assert.equal(b.revokedBy, 'alice', 'the first revoke stays on record');
  });

  it('refuses an unknown release and a running one, saying why, and changes nothing', async () => {
    await assert.rejects(
      h.client.revokeRelease('release-local-test-never-made', { by: 'carol' }),
      (error: unknown) => {
        assert.ok(error instanceof RevokeRefusedError, String(error));
        assert.match(error.reason, /has no images in the catalog: it is unknown, published nothing/);
        return true;
      },
    );
    const later = new Date(Date.now() + 3_600_000).toISOString();
    const { releaseId } = await h.client.startRelease(
      h.job({ cloud_image_name: 'running-v{date}-b{release}', utctime: later }),
    );
    await h.client.waitForRelease(releaseId, { pollIntervalMs: 200, timeoutMs: 1000 }).catch(() => undefined);
    await assert.rejects(
      h.client.revokeRelease(releaseId, { by: 'carol' }),
      /release .* is still running \(waiting\): only a finished release can be revoked \(imagecast job cancel/,
    );
    await h.client.cancelRelease(releaseId);
  });

  it('blocks when a region refuses the withdrawal; job resume on the revoke finishes it there', async () => {
    const { releaseId, A, B } = await releaseAThenB('revokeblock', '21', '22');
    const refuse = join(h.localDataDir, 'test', 'region-3', 'CLOSED-DEPRECATE');
    try {
      mkdirSync(join(h.localDataDir, 'test', 'region-3'), { recursive: true });
      writeFileSync(refuse, 'deprecation API down');
      const blocked = await h.client.revokeRelease(releaseId, { by: 'dave', pollIntervalMs: 200 });
      assert.equal(blocked.status.state, 'blocked', blocked.status.error);
      assert.equal(blocked.status.blocked?.step, 'withdraw');
      assert.deepEqual(
        blocked.status.blocked?.regions.map((r) => r.region),
        ['region-3'],
      );
      assert.match(
        blocked.status.blocked!.regions[0]!.reason,
        /refuses deprecation changes: deprecation API down/,
      );
      assert.ok(blocked.status.blocked?.resolve.includes(`imagecast job resume ${blocked.revokeId}`));
      assert.equal(
        imageIn('region-1', B.imageName).visibility,
        'private',
        'withdrawn where the region allowed it',
      );
      assert.equal(imageIn('region-3', B.imageName).visibility, 'public', 'not yet where it refused');
      rmSync(refuse);
      await h.client.resumeRelease(blocked.revokeId, { by: 'dave' });
      const done = await h.client.waitForRelease(blocked.revokeId, { pollIntervalMs: 200 });
      assert.equal(done.state, 'succeeded', done.error);
      assert.match(done.steps[0]!.detail!, /\(resumed by dave: retrying region-3\)$/);
      // Told when it blocked (with what it had withdrawn by then), then when it was done.
      const told = hooksAbout(releaseId);
      assert.deepEqual(
        told.map((k) => `${k.event}:${k.body.state}`),
        ['release.blocked:blocked', 'release.revoked:succeeded'],
      );
      assert.equal(told[0]!.body.revoke?.by, 'dave');
      assert.equal(told[0]!.body.revoke?.withdrawn.length, 3, 'withdrawn where the region allowed it');
      assert.deepEqual(
        told[0]!.body.blocked?.regions.map((r) => r.region),
        ['region-3'],
      );
      assert.equal(told[1]!.body.revoke?.withdrawn.length, 4);
      assert.equal(told[1]!.body.revoke?.restored.length, 4);
      assert.equal(told[1]!.body.revoke?.reason, null);
      for (const region of REGIONS) {
        assert.equal(imageIn(region, B.imageName).visibility, 'private', region);
        assert.equal(imageIn(region, A.imageName).state, 'available', region);
      }
    } finally {
      rmSync(refuse, { force: true });
    }
  });
});
