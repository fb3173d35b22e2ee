// Trust policies on a real PostgreSQL: who (issuer, audience, claims) may start what, audited.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type pg from 'pg';
import { createPool } from '../../../../infra/db/pool.js';
import { migrate } from '../../../../infra/db/migrate.js';
import { AuditLog } from '../../../../activities/accounts/audit-log.js';
import { TokenRefused } from '../../../../activities/accounts/ci-tokens.js';
import { TrustPolicies, TrustPolicyInputError, type AddTrustPolicyInput, type OidcIdentity } from '../../../../activities/accounts/oidc/trust-policies.js';
import { freshDatabaseUrl } from '../../../support/stack.js';

const GITHUB = 'https://token.actions.githubusercontent.com';
const AUD = 'https://imagecast.example:8443';

const identity = (claims: Record<string, unknown> = {}): OidcIdentity => ({
  issuer: GITHUB,
  audience: AUD,
  subject: 'repo:org/images:ref:refs/heads/main',
  claims: { repository: 'org/images', ref: 'refs/heads/main', run_id: '4711', iat: 1000, exp: 1300, ...claims },
});
const request = (overrides: Record<string, unknown> = {}) => ({
  cloud: 'ec2', targets: ['sles-prod'], imageName: 'sles-15-v{date}', sourceIp: '127.0.0.1', ...overrides,
});

describe('trust policies (PostgreSQL)', () => {
  let pool: pg.Pool;
  let policies: TrustPolicies;
  const add = (overrides: Partial<AddTrustPolicyInput> = {}) =>
    policies.add({
      issuer: GITHUB, audience: AUD, claims: ['repository=org/images', 'ref=refs/heads/main'],
      scope: { cloud: 'ec2', target: 'sles-prod' }, imagePrefix: 'sles-15', createdBy: 'test', ...overrides,
    });

  before(async () => {
    pool = createPool(await freshDatabaseUrl('trust-policies'));
    await migrate(pool);
    policies = new TrustPolicies(pool);
  });
  after(async () => pool?.end());

  it('allows a matching identity what its policy covers, audits who asked, and refuses the rest with the reason', async () => {
    const policy = await add({ maxTtlSeconds: 600 });
    assert.deepEqual(await policies.trustedIssuer(GITHUB), { issuer: GITHUB, audiences: [AUD] });
    assert.equal(await policies.trustedIssuer('https://gitlab.com'), undefined);

    const allowed = await policies.authorize(identity(), request());
    assert.equal(allowed.id, policy.id);
    await policies.recordUse(identity(), allowed, request(), 'release-1');
    const [ok] = await new AuditLog(pool).entries({ subject: `trust:${policy.id}`, action: 'release.start' });
    assert.equal(ok?.outcome, 'ok');
    assert.equal(ok?.actor, `oidc:${GITHUB}#repo:org/images:ref:refs/heads/main`);
    assert.deepEqual(ok?.detail?.claims, { repository: 'org/images', ref: 'refs/heads/main' });
    assert.equal(ok?.detail?.runId, '4711');
    assert.equal(ok?.detail?.releaseId, 'release-1');

    const refused = async (id: OidcIdentity, req: ReturnType<typeof request>, reason: RegExp) => {
      const error = await policies.authorize(id, req).then(() => undefined, (e: unknown) => e);
      assert.ok(error instanceof TokenRefused, `refused: ${String(error)}`);
      assert.match(error.reason, reason);
    };
    await refused(identity({ ref: 'refs/heads/dev' }), request(), new RegExp(`match no trust policy of ${GITHUB}: ${policy.id} \\(ref differ\\)`));
    await refused({ ...identity(), audience: 'other' }, request(), /no trust policy for issuer .* and audience other/);
    await refused(identity(), request({ cloud: 'gce' }), /is for release:ec2:sles-prod, not for gce releases/);
    await refused(identity(), request({ targets: ['sles-prod', 'other'] }), /the job names other/);
    await refused(identity(), request({ imageName: 'leap-15' }), /allows images named "sles-15…" only, not "leap-15"/);
    await refused(identity({ exp: 1000 + 3600 }), request(), /at most 600 s; this one lives 3600 s/);
    const refusals = (await new AuditLog(pool).entries({ action: 'release.start' })).filter((e) => e.outcome === 'refused');
    assert.equal(refusals.length, 6);
    assert.ok(refusals.every((r) => r.actor.startsWith('oidc:') && typeof r.detail?.reason === 'string'));
    await policies.delete(policy.id, 'test');
    await refused(identity(), request(), /no trust policy for issuer/);
  });

  it('covers a group: the policy names it, the job names its accounts', async () => {
    await pool.query(
      `INSERT INTO accounts (cloud, name, account_group, settings, secret_ciphertext, wrapped_data_key, key_id)
       VALUES ('ec2', 'prod-east', 'prod', '{}', '\\x00', '\\x00', 'k')`,
    );
    const policy = await add({ scope: { cloud: 'ec2', target: 'prod' }, claims: ['repository=org/*'] });
    assert.equal((await policies.authorize(identity({ repository: 'org/other' }), request({ targets: ['prod-east'] }))).id, policy.id);
    const [scope] = await policies.readScopes(identity());
    assert.deepEqual([...scope!.members].sort(), ['prod', 'prod-east']);
    await policies.delete(policy.id, 'test');
  });

  it('refuses bad policies naming the flag, what was expected and what was given', async () => {
    await assert.rejects(add({ issuer: 'http://issuer.example' }), (e: Error) => e instanceof TrustPolicyInputError && /--issuer: expected an https URL \(http only on loopback\), got "http:\/\/issuer.example"/.test(e.message));
    await assert.rejects(add({ issuer: 'not a url' }), /--issuer: expected an https URL/);
    await assert.rejects(add({ claims: [] }), /--claim: at least one is required/);
    await assert.rejects(add({ claims: ['repository=*'] }), /would match anything/);
    await assert.rejects(add({ maxTtlSeconds: 3 * 86400 }), /--max-ttl: between 1 s and 24 h, got 259200 s/);
    await assert.rejects(add({ audience: ' ' }), /--audience/);
    await assert.rejects(policies.show('tp_nope'), /no trust policy with id tp_nope/);
    await assert.rejects(policies.delete('tp_nope', 'test'), /no trust policy with id tp_nope/);
    const local = await add({ issuer: 'http://127.0.0.1:9999', jwksUrl: 'http://127.0.0.1:9999/keys' });
    assert.deepEqual(await policies.trustedIssuer('http://127.0.0.1:9999'), { issuer: 'http://127.0.0.1:9999', audiences: [AUD], jwksUrl: 'http://127.0.0.1:9999/keys' });
    assert.deepEqual((await policies.show(local.id)).claims, { repository: 'org/images', ref: 'refs/heads/main' });
  });
});
