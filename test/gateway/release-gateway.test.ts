// CI tokens through the real gateway: HTTP on loopback, tokens and the audit log in a real
// PostgreSQL, releases on the real Temporal dev server (the local cloud).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type pg from 'pg';
import { WorkflowNotFoundError } from '@temporalio/client';
import { startReleaseHarness, type ReleaseHarness } from '../support/release-harness.js';
import { createPool } from '../../infra/db/pool.js';
import { CiTokens, type CreateTokenInput } from '../../activities/accounts/ci-tokens.js';
import { AuditLog } from '../../activities/accounts/audit-log.js';
import { startReleaseGateway, type ReleaseGateway } from '../../gateway/release-gateway.js';
import { GatewayError, ImagecastGateway } from '../../client/sdk/index.js';
import { deterministicReleaseId, parseJob } from '../../schemas/job/index.js';

const cli = fileURLToPath(new URL('../../client/cli/main.js', import.meta.url));

describe('CI tokens and the release gateway', () => {
  let h: ReleaseHarness;
  let pool: pg.Pool;
  let tokens: CiTokens;
  let gateway: ReleaseGateway;

  before(async () => {
    h = await startReleaseHarness('gateway');
    pool = createPool(h.databaseUrl);
    tokens = new CiTokens(pool);
    gateway = await startReleaseGateway({ pool, client: h.client });
    await h.publish('1');
  });
  after(async () => {
    await gateway?.stop();
    await pool?.end();
    await h?.stop();
  });

  const token = async (overrides: Partial<CreateTokenInput> = {}) =>
    (await tokens.create({ scope: { cloud: 'local', target: 'test' }, ttlSeconds: 3600, createdBy: 'test', ...overrides })).token;
  const job = (name: string) => ({ ...h.job(), cloud_image_name: `${name}-v{date}-b{release}`, last_service: 'create' });
  /** Nothing was started for this job: no workflow with its id exists. */
  const notStarted = async (name: string) => {
    const date = new Date().toISOString().slice(0, 10).replace(/-/g, '');
    const parsed = parseJob(job(name));
    assert.ok(parsed.ok);
    const releaseId = deterministicReleaseId(parsed.job, date);
    await assert.rejects(h.client.temporal.workflow.getHandle(releaseId).describe(), WorkflowNotFoundError, `${releaseId} was not started`);
  };

  it('starts a release with a valid token, counts the use, audits it, and reads the release back', async () => {
    const secret = await token({ maxUses: 2, imagePrefix: 'ci-ok' });
    const ci = new ImagecastGateway({ url: gateway.url, token: secret });
    const { releaseId } = await ci.startRelease(job('ci-ok'));
    const status = await ci.waitForRelease(releaseId, { pollIntervalMs: 200 });
    assert.equal(status.state, 'succeeded', status.error);
    assert.equal(status.images.length, 1);
    const [info] = (await tokens.list()).filter((t) => t.imagePrefix === 'ci-ok');
    assert.equal(info?.uses, 1);
    const [audit] = await new AuditLog(pool).entries({ subject: `token:${info!.id}`, action: 'release.start' });
    assert.equal(audit?.outcome, 'ok');
    assert.equal(audit?.detail?.releaseId, releaseId);
    assert.equal(audit?.detail?.sourceIp, '127.0.0.1');
    // The database holds the token's hash only.
    const { rows } = await pool.query<{ t: string }>('SELECT row_to_json(t)::text AS t FROM ci_tokens t');
    assert.ok(rows.every((r) => !r.t.includes(secret) && !r.t.includes(secret.split('_').slice(2).join('_'))));
  });

  it('refuses an expired, revoked, used-up, wrong-scope, wrong-prefix or wrong-source token, says why, and starts nothing', async () => {
    const expired = await token();
    await pool.query("UPDATE ci_tokens SET expires_at = now() - interval '1 minute' WHERE token_sha256 = sha256($1::bytea)", [Buffer.from(expired)]);
    const revoked = await token();
    const revokedId = revoked.split('_')[1]!;
    await tokens.revoke(revokedId, 'test');
    const once = await token({ maxUses: 1 });
    await new ImagecastGateway({ url: gateway.url, token: once }).startRelease(job('ci-once'));
    const cases: Array<[string, string, RegExp]> = [
      [expired, 'ci-expired', /token \w+ expired at /],
      [revoked, 'ci-revoked', /token \w+ was revoked at /],
      [once, 'ci-used-up', /token \w+ has been used 1 of 1 times/],
      [await token({ scope: { cloud: 'local', target: 'other-account' } }), 'ci-scope', /is for release:local:other-account; the job names test/],
      [await token({ scope: { cloud: 'ec2', target: 'test' } }), 'ci-cloud', /is for release:ec2:test, not for local releases/],
      [await token({ imagePrefix: 'sles-' }), 'ci-prefix', /allows images named "sles-…" only, not "ci-prefix-v\{date\}-b\{release\}"/],
      [await token({ sourceCidr: '10.0.0.0/8' }), 'ci-source', /is for requests from 10.0.0.0\/8, not from 127.0.0.1/],
      ['icast_000000000000_not-a-real-token', 'ci-unknown', /unknown token/],
    ];
    for (const [secret, name, reason] of cases) {
      await assert.rejects(new ImagecastGateway({ url: gateway.url, token: secret }).startRelease(job(name)), (e: GatewayError) => {
        assert.equal(e.status, 403, name);
        assert.match(e.message, /^token refused: /);
        assert.match(e.message, reason, name);
        assert.ok(!e.message.includes(secret), 'the token is not echoed');
        return true;
      });
      await notStarted(name);
    }
    const refused = (await new AuditLog(pool).entries({ action: 'release.start', limit: 50 })).filter((e) => e.outcome === 'refused');
    assert.equal(refused.length, cases.length, 'every refusal is audited');

    // No token at all, and an invalid job with a good token: refused before any token use.
    const bare = await fetch(new URL('/v1/releases', gateway.url), { method: 'POST', body: JSON.stringify(job('ci-bare')) });
    assert.equal(bare.status, 401);
    const good = await token({ maxUses: 1 });
    await assert.rejects(new ImagecastGateway({ url: gateway.url, token: good }).startRelease({ cloud: 'local' }), (e: GatewayError) => {
      assert.equal(e.status, 400);
      assert.match(e.message, /\$\.cloud_image_name/);
      return true;
    });
    const [goodInfo] = (await tokens.list()).filter((t) => t.maxUses === 1 && t.uses === 0);
    assert.ok(goodInfo, 'an invalid job does not use the token up');
  });

  it('imagecast token create prints the token once; list never shows it; revoke ends it', () => {
    const env = { ...process.env, IMAGECAST_DATABASE_URL: h.databaseUrl };
    const created = spawnSync(process.execPath, [cli, 'token', 'create', '--scope', 'release:local:test', '--ttl', '30m', '--max-uses', '3', '--image-prefix', 'ci-'], { encoding: 'utf8', env });
    assert.equal(created.status, 0, created.stderr);
    const secret = created.stdout.trim();
    assert.match(secret, /^icast_[0-9a-f]{12}_[A-Za-z0-9_-]{43}$/);
    assert.match(created.stderr, /for release:local:test, expires .* \(shown once/);
    const listed = spawnSync(process.execPath, [cli, 'token', 'list'], { encoding: 'utf8', env });
    assert.equal(listed.status, 0, listed.stderr);
    assert.ok(!listed.stdout.includes(secret.split('_').slice(2).join('_')));
    const id = secret.split('_')[1]!;
    assert.match(listed.stdout, new RegExp(`${id}  release:local:test  active  expires .*uses 0/3, prefix ci-`));
    const revoked = spawnSync(process.execPath, [cli, 'token', 'revoke', id], { encoding: 'utf8', env });
    assert.equal(revoked.status, 0, revoked.stderr);
    const after = spawnSync(process.execPath, [cli, 'token', 'list'], { encoding: 'utf8', env });
    assert.match(after.stdout, new RegExp(`${id}  release:local:test  revoked`));
    const bad = spawnSync(process.execPath, [cli, 'token', 'create', '--scope', 'deploy:everything', '--ttl', '1h'], { encoding: 'utf8', env });
    assert.equal(bad.status, 2);
    assert.match(bad.stderr, /--scope: "deploy:everything" is not release:<cloud>:<account-or-group>/);
    const long = spawnSync(process.execPath, [cli, 'token', 'create', '--scope', 'release:local:test', '--ttl', '90d'], { encoding: 'utf8', env });
    assert.equal(long.status, 2);
    assert.match(long.stderr, /--ttl: between 1 s and 30 days/);
  });
});
