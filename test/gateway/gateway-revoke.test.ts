// Revoking through the gateway and the CLI: a `revoke:<cloud>:<target>` token may revoke the
// releases its scope covers, and nothing else; a `release:` token may not revoke. Real gateway
// over loopback HTTP, real PostgreSQL, real Temporal dev server, the local cloud.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type pg from 'pg';
import { startReleaseHarness, type ReleaseHarness } from '../support/release-harness.js';
import { runCli } from '../support/cli-process.js';
import { createPool } from '../../infra/db/pool.js';
import { CiTokens, type CreateTokenInput } from '../../activities/accounts/ci-tokens.js';
import { AuditLog } from '../../activities/accounts/audit-log.js';
import { startReleaseGateway, type ReleaseGateway } from '../../gateway/release-gateway.js';
import { GatewayError, ImagecastGateway } from '../../client/sdk/index.js';

describe('revoking through the gateway and the CLI', () => {
  let h: ReleaseHarness;
  let pool: pg.Pool;
  let tokens: CiTokens;
  let gateway: ReleaseGateway;

  before(async () => {
    h = await startReleaseHarness('gwrevoke');
    pool = createPool(h.databaseUrl);
    tokens = new CiTokens(pool);
    gateway = await startReleaseGateway({ pool, client: h.client });
  });
  after(async () => {
    await gateway?.stop();
    await pool?.end();
    await h?.stop();
  });

  const token = async (overrides: Partial<CreateTokenInput> = {}) =>
    (
      await tokens.create({
        scope: { cloud: 'local', target: 'test' },
        ttlSeconds: 3600,
        createdBy: 'test',
        ...overrides,
      })
    ).token;
  const refused = (status: number, message: RegExp) => (error: unknown) => {
    assert.ok(error instanceof GatewayError, String(error));
    assert.equal(error.status, status);
    assert.match(error.message, message);
    return true;
  };

  async function releaseTwice(line: string, a: string, b: string): Promise<string> {
    let releaseId = '';
    for (const build of [a, b]) {
      await h.publish(build);
      ({ releaseId } = await h.client.startRelease(
        h.job({ cloud_image_name: `${line}-v{date}-b{release}`, additional_regions: ['region-2'] }),
      ));
      assert.equal((await h.client.waitForRelease(releaseId, { pollIntervalMs: 200 })).state, 'succeeded');
    }
    return releaseId;
  }

  it('revokes with a revoke: token (audited, its use counted); a release: token, another scope or a used-up token is refused', async () => {
    const releaseId = await releaseTwice('gwrev', '1', '2');
    const starter = new ImagecastGateway({ url: gateway.url, token: await token() });
    await assert.rejects(
      starter.revokeRelease(releaseId, { reason: 'nope' }),
      refused(
        403,
        /revoking needs a token of scope revoke:local:<account-or-group> covering test \(this one is release:local:test\)/,
      ),
    );
    const elsewhere = new ImagecastGateway({
      url: gateway.url,
      token: await token({ scope: { cloud: 'local', target: 'other', action: 'revoke' } }),
    });
    await assert.rejects(elsewhere.revokeRelease(releaseId), refused(404, /no release/));

    const secret = await token({ scope: { cloud: 'local', target: 'test', action: 'revoke' }, maxUses: 1 });
    const revoker = new ImagecastGateway({ url: gateway.url, token: secret });
    await assert.rejects(
      revoker.startRelease(h.job()),
      refused(403, /is for revoke:local:test: it may revoke releases, not start them/),
    );
    const outcome = await revoker.revokeRelease(releaseId, { reason: 'CVE in the kernel' });
    assert.equal(outcome.status.state, 'succeeded', outcome.status.error);
    assert.equal(outcome.result?.withdrawn.length, 2);
    assert.equal(outcome.result?.restored.length, 2);
    const id = secret.split('_')[1]!;
    const revoked = (
      await h.catalog.listImages({ cloud: 'local', account: 'test', state: 'deprecated' })
    ).filter((i) => i.revokedAt);
    assert.deepEqual(
      revoked.map((i) => i.revokedBy),
      [`token:${id} via gateway`, `token:${id} via gateway`],
    );
    assert.deepEqual(
      revoked.map((i) => i.revokeReason),
      ['CVE in the kernel', 'CVE in the kernel'],
    );
    const audit = await new AuditLog(pool).entries({
      subject: `release:${releaseId}`,
      action: 'release.revoke',
    });
    const outcomes = audit.map((a) => `${a.actor}:${a.outcome}`);
    assert.ok(outcomes.includes(`token:${id}:ok`), 'the gateway audits the token that revoked');
    assert.ok(outcomes.includes(`token:${id} via gateway:ok`), 'the revoke audits who it was for');
    assert.equal(outcomes.filter((o) => o.endsWith(':refused')).length, 1, 'the release: token refused');
    await assert.rejects(revoker.revokeRelease(releaseId), refused(403, /has no uses left/));
  });

  it('imagecast release revoke: refuses a running release (exit 1, reason); revokes; says already revoked the second time', async () => {
    const env = {
      ...process.env,
      IMAGECAST_TEMPORAL_ADDRESS: h.temporalAddress,
      IMAGECAST_QUEUE_PREFIX: h.queuePrefix,
      IMAGECAST_GATEWAY_URL: '',
    };
    const help = await runCli(['release', 'revoke', '--help'], env);
    assert.match(help.stdout, /--reason <text>/);
    assert.match(help.stdout, /revoke:<cloud>:<account-or-group>/);

    const later = new Date(Date.now() + 3_600_000).toISOString();
    const waiting = await h.client.startRelease(
      h.job({ cloud_image_name: 'cliwait-v{date}-b{release}', utctime: later }),
    );
    const running = await runCli(['release', 'revoke', waiting.releaseId, '--json'], env);
    assert.equal(running.status, 1, running.stderr);
    const error = (JSON.parse(running.stdout) as { error: { code: string; reason: string } }).error;
    assert.equal(error.code, 'revoke_refused');
    assert.match(error.reason, /is still running \(waiting\)/);
    await h.client.cancelRelease(waiting.releaseId);

    const releaseId = await releaseTwice('clirev', '3', '4');
    const first = await runCli(['release', 'revoke', releaseId, '--reason', 'wrong kernel'], env);
    assert.equal(first.status, 0, first.stderr);
    assert.match(first.stdout, new RegExp(`${releaseId}: revoked \\(revoke-${releaseId}\\)`));
    assert.match(first.stdout, /withdraw: withdrawn: region-1: .*, region-2: /);
    assert.match(first.stdout, /restore: current again: region-1: /);
    const second = await runCli(['release', 'revoke', releaseId, '--json'], env);
    assert.equal(second.status, 0, second.stderr);
    const answer = JSON.parse(second.stdout) as { result: { alreadyRevoked: { reason: string } } };
    assert.equal(answer.result.alreadyRevoked.reason, 'wrong kernel');
  });
});
