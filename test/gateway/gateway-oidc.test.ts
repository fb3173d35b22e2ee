// Keyless CI through the real gateway: a local OIDC issuer on loopback (discovery, JWKS, key
// rotation) mints ID tokens; trust policies and the audit log in a real PostgreSQL; releases
// on the real Temporal dev server (the local cloud).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { runCli } from '../support/cli-process.js';
import { tempDir } from '../support/stack.js';
import type pg from 'pg';
import { WorkflowNotFoundError } from '@temporalio/client';
import { startReleaseHarness, type ReleaseHarness } from '../support/release-harness.js';
import { createPool } from '../../infra/db/pool.js';
import { AuditLog } from '../../activities/accounts/audit-log.js';
import { CiTokens } from '../../activities/accounts/ci-tokens.js';
import { TrustPolicies } from '../../activities/accounts/oidc/trust-policies.js';
import { IdTokenVerifier } from '../../activities/accounts/oidc/id-token-verifier.js';
import { startOidcIssuer, type OidcIssuer } from '../../infra/fakes/oidc-issuer/issuer.js';
import { startReleaseGateway, type ReleaseGateway } from '../../gateway/release-gateway.js';
import { GatewayError, ImagecastGateway } from '../../client/sdk/index.js';
import { deterministicReleaseId, parseJob } from '../../schemas/job/index.js';

const CLAIMS = { repository: 'org/images', ref: 'refs/heads/main', run_id: '4711', sub: 'repo:org/images:ref:refs/heads/main' };

describe('keyless CI: OIDC ID tokens at the release gateway', () => {
  let h: ReleaseHarness;
  let pool: pg.Pool;
  let issuer: OidcIssuer;
  let stranger: OidcIssuer;
  let gateway: ReleaseGateway;
  let audience: string;

  before(async () => {
    h = await startReleaseHarness('gateway-oidc');
    pool = createPool(h.databaseUrl);
    issuer = await startOidcIssuer();
    stranger = await startOidcIssuer();
    gateway = await startReleaseGateway({ pool, client: h.client, idTokenVerifier: new IdTokenVerifier({ jwksCooldownMs: 0 }) });
    audience = gateway.url;
    await new TrustPolicies(pool).add({
      issuer: issuer.issuer, audience, claims: ['repository=org/images', 'ref=refs/heads/main'],
      scope: { cloud: 'local', target: 'test' }, imagePrefix: 'oidc-', maxTtlSeconds: 3600, createdBy: 'test',
    });
    await h.publish('1');
  });
  after(async () => {
    await gateway?.stop();
    await issuer?.stop();
    await stranger?.stop();
    await pool?.end();
    await h?.stop();
  });

  const job = (name: string) => ({ ...h.job(), cloud_image_name: `${name}-v{date}-b{release}`, last_service: 'create' });
  const notStarted = async (name: string) => {
    const parsed = parseJob(job(name));
    assert.ok(parsed.ok);
    const releaseId = deterministicReleaseId(parsed.job, new Date().toISOString().slice(0, 10).replace(/-/g, ''));
    await assert.rejects(h.client.temporal.workflow.getHandle(releaseId).describe(), WorkflowNotFoundError, `${releaseId} was not started`);
  };

  it('starts a release for a token whose claims match a policy, audits who asked, and reads it back', async () => {
    const jwt = await issuer.mint(CLAIMS, { audience });
    const ci = new ImagecastGateway({ url: gateway.url, token: jwt });
    const { releaseId } = await ci.startRelease(job('oidc-ok'));
    const status = await ci.waitForRelease(releaseId, { pollIntervalMs: 200 });
    assert.equal(status.state, 'succeeded', status.error);
    const [audit] = (await new AuditLog(pool).entries({ action: 'release.start' })).filter((e) => e.outcome === 'ok');
    assert.equal(audit?.actor, `oidc:${issuer.issuer}#${CLAIMS.sub}`);
    assert.equal(audit?.detail?.releaseId, releaseId);
    assert.deepEqual(audit?.detail?.claims, { repository: 'org/images', ref: 'refs/heads/main' });
    assert.equal(audit?.detail?.runId, '4711');
    const rows = await pool.query<{ t: string }>('SELECT row_to_json(a)::text AS t FROM audit_log a');
    assert.ok(rows.rows.every((r) => !r.t.includes(jwt)), 'the token itself is never stored');

    // A token from another repository may not read it.
    const other = new ImagecastGateway({ url: gateway.url, token: await issuer.mint({ ...CLAIMS, repository: 'org/other' }, { audience }) });
    await assert.rejects(other.getRelease(releaseId), (e: GatewayError) => e.status === 403 && /match no trust policy/.test(e.message));
  });

  it('imagecast job add --gateway --oidc github releases from a GitHub Actions-shaped environment with no secret', async () => {
    // GitHub's token endpoint, as actions/toolkit calls it, minting with the local issuer.
    const github = createServer((req, res) => {
      const audienceAsked = new URL(req.url!, 'http://x').searchParams.get('audience');
      const ok = req.headers.authorization === 'bearer gha-request-token';
      void (ok ? issuer.mint(CLAIMS, { audience: audienceAsked ?? '' }) : Promise.resolve('')).then((value) => {
        res.writeHead(ok ? 200 : 401, { 'content-type': 'application/json' });
        res.end(JSON.stringify(ok ? { value } : { message: 'bad credentials' }));
      });
    });
    await new Promise<void>((resolve) => github.listen(0, '127.0.0.1', resolve));
    try {
      const dir = tempDir('gateway-oidc-cli');
      const file = join(dir, 'job.json');
      const { cloud: _cloud, ...doc } = job('oidc-cli') as Record<string, unknown>;
      writeFileSync(file, JSON.stringify(doc));
      const env = {
        ...process.env,
        IMAGECAST_TOKEN: '',
        ACTIONS_ID_TOKEN_REQUEST_URL: `http://127.0.0.1:${(github.address() as AddressInfo).port}/token?api-version=2.0`,
        ACTIONS_ID_TOKEN_REQUEST_TOKEN: 'gha-request-token',
      };
      const ran = await runCli(['job', 'add', 'local', file, '--gateway', gateway.url, '--oidc', 'github', '--wait', '--json'], env);
      assert.equal(ran.status, 0, ran.stderr + ran.stdout);
      assert.equal((JSON.parse(ran.stdout) as { state: string }).state, 'succeeded');

      const bad = await runCli(['job', 'add', 'local', file, '--gateway', gateway.url, '--oidc', 'jenkins'], env);
      assert.equal(bad.status, 2);
      assert.match(bad.stderr, /--oidc: expected github or gitlab, got "jenkins"/);
      const noGateway = await runCli(['job', 'add', 'local', file, '--oidc', 'github'], { ...env, IMAGECAST_GATEWAY_URL: '' });
      assert.equal(noGateway.status, 2);
      assert.match(noGateway.stderr, /--oidc: only with --gateway URL/);
      const outsideCi = await runCli(['job', 'add', 'local', file, '--gateway', gateway.url, '--oidc', 'github'], { ...env, ACTIONS_ID_TOKEN_REQUEST_URL: '' });
      assert.equal(outsideCi.status, 1);
      assert.match(outsideCi.stderr, /permissions: id-token: write/);
    } finally {
      github.close();
    }
  });

  it('still verifies after the issuer rotates its key (the new kid is fetched)', async () => {
    await issuer.rotate();
    const before = issuer.jwksRequests();
    const ci = new ImagecastGateway({ url: gateway.url, token: await issuer.mint(CLAIMS, { audience }) });
    const { releaseId } = await ci.startRelease(job('oidc-rotated'));
    assert.ok(releaseId);
    assert.ok(issuer.jwksRequests() > before, 'the JWKS was fetched again for the unknown kid');
  });

  it('resumes and aborts blocked releases the identity covers, audited with who decided', async () => {
    const closed = join(h.localDataDir, 'test', 'region-4');
    mkdirSync(closed, { recursive: true });
    writeFileSync(join(closed, 'CLOSED'), 'image quota reached');
    try {
      const ci = new ImagecastGateway({ url: gateway.url, token: await issuer.mint(CLAIMS, { audience }) });
      const blocked = async (name: string) => {
        const { releaseId } = await ci.startRelease({ ...job(name), last_service: 'publish' });
        const status = await ci.waitForRelease(releaseId, { pollIntervalMs: 200 });
        assert.equal(status.state, 'blocked', status.error);
        return releaseId;
      };
      const [skipped, aborted] = [await blocked('oidc-skip'), await blocked('oidc-abort')];

      const other = new ImagecastGateway({ url: gateway.url, token: await issuer.mint({ ...CLAIMS, repository: 'org/other' }, { audience }) });
      await assert.rejects(other.resumeRelease(skipped), (e: GatewayError) => e.status === 403);
      const bad = await fetch(new URL(`/v1/releases/${skipped}/resume`, gateway.url), {
        method: 'POST', headers: { authorization: `Bearer ${await issuer.mint(CLAIMS, { audience })}` }, body: JSON.stringify({ skip: 'region-4' }),
      });
      assert.equal(bad.status, 400);
      assert.match(((await bad.json()) as { error: string }).error, /\$\.skip: expected a non-empty list of unit names .* got "region-4"/);
      await assert.rejects(ci.resumeRelease(skipped, { skip: ['region-2'] }), (e: GatewayError) => e.status === 409 && /cannot skip region-2/.test(e.message));

      const outcome = await ci.resumeRelease(skipped, { skip: ['region-4'] });
      assert.match(outcome.detail, new RegExp(`resumed by oidc:${issuer.issuer}#repo:org/images:ref:refs/heads/main via gateway`));
      assert.equal((await ci.waitForRelease(skipped, { pollIntervalMs: 200 })).state, 'succeeded');
      // The CLI through the gateway, with a CI token this time: same decision, recorded as the token's.
      const { token, info } = await new CiTokens(pool).create({ scope: { cloud: 'local', target: 'test' }, ttlSeconds: 600, createdBy: 'test' });
      const cliAbort = await runCli(['job', 'abort', aborted, '--gateway', gateway.url, '--json'], { ...process.env, IMAGECAST_TOKEN: token });
      assert.equal(cliAbort.status, 0, cliAbort.stderr + cliAbort.stdout);
      assert.equal((JSON.parse(cliAbort.stdout) as { decision: string }).decision, 'abort');
      const abortedStatus = await ci.waitForRelease(aborted, { pollIntervalMs: 200 });
      assert.notEqual(abortedStatus.state, 'succeeded');
      await assert.rejects(ci.abortRelease(aborted), (e: GatewayError) => e.status === 409);

      const log = new AuditLog(pool);
      const [resumed] = await log.entries({ subject: `release:${skipped}`, action: 'release.resume' });
      assert.equal(resumed?.outcome, 'ok');
      assert.equal(resumed?.actor, `oidc:${issuer.issuer}#${CLAIMS.sub}`);
      assert.deepEqual(resumed?.detail?.skip, ['region-4']);
      assert.equal((resumed?.detail?.claims as Record<string, unknown>)?.repository, 'org/images');
      const abortRows = await log.entries({ subject: `release:${aborted}`, action: 'release.abort' });
      assert.deepEqual(abortRows.map((r) => r.outcome), ['refused', 'ok']);
      assert.equal(abortRows[1]?.actor, `token:${info.id}`);
    } finally {
      rmSync(join(closed, 'CLOSED'), { force: true });
    }
  });

  it('refuses every bad token with the reason, audits it, and starts nothing', async () => {
    const now = Math.floor(Date.now() / 1000);
    const cases: Array<[string, Promise<string>, RegExp]> = [
      ['oidc-expired', issuer.mint(CLAIMS, { audience, expiresInSeconds: -600 }), /expired at /],
      ['oidc-early', issuer.mint(CLAIMS, { audience, notBefore: now + 600 }), /not valid before /],
      ['oidc-audience', issuer.mint(CLAIMS, { audience: 'https://elsewhere.example' }), /audience/],
      ['oidc-signature', issuer.mint(CLAIMS, { audience, signWithForeignKey: true }), /signature|no key/],
      ['oidc-issuer', stranger.mint(CLAIMS, { audience }), /unknown issuer/],
      ['oidc-none', issuer.mint(CLAIMS, { audience, algNone: true }), /none/],
      ['oidc-claims', issuer.mint({ ...CLAIMS, ref: 'refs/heads/dev' }, { audience }), /match no trust policy .*\(ref differ\)/],
      ['oidc-longlived', issuer.mint(CLAIMS, { audience, expiresInSeconds: 6 * 3600 }), /at most 3600 s/],
      ['sles-prefix', issuer.mint(CLAIMS, { audience }), /allows images named "oidc-…" only/],
    ];
    const refusedBefore = (await new AuditLog(pool).entries({ action: 'release.start', limit: 100 })).filter((e) => e.outcome === 'refused').length;
    for (const [name, minted, reason] of cases) {
      const jwt = await minted;
      await assert.rejects(new ImagecastGateway({ url: gateway.url, token: jwt }).startRelease(job(name)), (e: GatewayError) => {
        assert.equal(e.status, 403, `${name}: ${e.message}`);
        assert.match(e.message, reason, name);
        assert.ok(!e.message.includes(jwt), 'the token is not echoed');
        return true;
      });
      await notStarted(name);
    }
    const refused = (await new AuditLog(pool).entries({ action: 'release.start', limit: 100 })).filter((e) => e.outcome === 'refused');
    assert.equal(refused.length - refusedBefore, cases.length, 'every refusal is audited');
    const claimsRefusal = refused.find((e) => String(e.detail?.reason).includes('ref differ'));
    assert.equal((claimsRefusal?.detail?.claims as Record<string, unknown>)?.ref, 'refs/heads/dev', 'the audit row carries the claims');
  });
});
