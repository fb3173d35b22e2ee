import { randomBytes } from 'node:crypto';
import type pg from 'pg';
import { AuditLog } from '../audit-log.js';
import { TokenRefused, type ReleaseRequest, type TokenScope } from '../ci-tokens.js';
import { parseClaimPatterns, unmatchedClaims, type ClaimPatterns } from './claim-patterns.js';

/** A verified OIDC ID token, as the gateway's verifier hands it over. */
export interface OidcIdentity {
  issuer: string;
  subject: string;
  audience: string;
  claims: Record<string, unknown>;
}

export interface AddTrustPolicyInput {
  issuer: string;
  audience: string;
  jwksUrl?: string;
  /** `name=pattern` texts, as given to `--claim`. */
  claims: string[];
  scope: TokenScope;
  imagePrefix?: string;
  maxTtlSeconds?: number;
  description?: string;
  createdBy: string;
}

export interface TrustPolicy {
  id: string;
  issuer: string;
  audience: string;
  jwksUrl: string | null;
  claims: ClaimPatterns;
  scope: string;
  imagePrefix: string | null;
  maxTtlSeconds: number | null;
  description: string | null;
  createdAt: Date;
  createdBy: string;
}

export class TrustPolicyInputError extends Error {
  override name = 'TrustPolicyInputError';
}

const MAX_TTL_SECONDS = 24 * 3600;

/**
 * Which CI identities may start which releases without any stored secret: an OIDC issuer
 * (GitHub Actions, GitLab…), the audience its tokens are minted for, and claims that name the
 * repository, branch or environment. A token is allowed what one matching policy allows,
 * nothing more; every decision is in the audit log with the issuer, subject and claims.
 */
export class TrustPolicies {
  private readonly audit: AuditLog;

  constructor(private readonly pool: pg.Pool) {
    this.audit = new AuditLog(pool);
  }

  async add(input: AddTrustPolicyInput): Promise<TrustPolicy> {
    checkIssuerUrl('--issuer', input.issuer);
    if (input.jwksUrl !== undefined) checkIssuerUrl('--jwks-url', input.jwksUrl);
    if (input.audience.trim() === '') throw new TrustPolicyInputError('--audience: the audience CI mints its token for, e.g. https://imagecast.example:8443; got ""');
    if (input.maxTtlSeconds !== undefined && (!Number.isInteger(input.maxTtlSeconds) || input.maxTtlSeconds <= 0 || input.maxTtlSeconds > MAX_TTL_SECONDS))
      throw new TrustPolicyInputError(`--max-ttl: between 1 s and 24 h, got ${input.maxTtlSeconds} s`);
    let claims: ClaimPatterns;
    try {
      claims = parseClaimPatterns(input.claims);
    } catch (error) {
      throw new TrustPolicyInputError((error as Error).message);
    }
    const id = `tp_${randomBytes(5).toString('hex')}`;
    const { rows } = await this.pool.query<PolicyRow>(
      `INSERT INTO trust_policies (id, issuer, audience, jwks_url, claims, scope_cloud, scope_target, image_prefix,
                                   max_ttl_seconds, description, created_by)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING *`,
      [id, input.issuer, input.audience, input.jwksUrl ?? null, claims, input.scope.cloud, input.scope.target,
        input.imagePrefix ?? null, input.maxTtlSeconds ?? null, input.description ?? null, input.createdBy],
    );
    const policy = policyOf(rows[0]!);
    await this.audit.record(input.createdBy, 'trust.add', subject(id), 'ok', { issuer: policy.issuer, audience: policy.audience, claims, scope: policy.scope });
    return policy;
  }

  async list(): Promise<TrustPolicy[]> {
    const { rows } = await this.pool.query<PolicyRow>('SELECT * FROM trust_policies ORDER BY created_at DESC, id');
    return rows.map(policyOf);
  }

  async show(id: string): Promise<TrustPolicy> {
    const { rows } = await this.pool.query<PolicyRow>('SELECT * FROM trust_policies WHERE id = $1', [id]);
    if (!rows[0]) throw new TrustPolicyInputError(`no trust policy with id ${id} (imagecast trust list)`);
    return policyOf(rows[0]);
  }

  async delete(id: string, actor: string): Promise<void> {
    const { rowCount } = await this.pool.query('DELETE FROM trust_policies WHERE id = $1', [id]);
    if (rowCount === 0) throw new TrustPolicyInputError(`no trust policy with id ${id} (imagecast trust list)`);
    await this.audit.record(actor, 'trust.delete', subject(id), 'ok');
  }

  /** What the verifier needs to know of an issuer: its audiences and JWKS; undefined when no policy names it. */
  async trustedIssuer(issuer: string): Promise<{ issuer: string; audiences: string[]; jwksUrl?: string } | undefined> {
    const { rows } = await this.pool.query<{ audience: string; jwks_url: string | null }>(
      'SELECT DISTINCT audience, jwks_url FROM trust_policies WHERE issuer = $1 ORDER BY audience',
      [issuer],
    );
    if (rows.length === 0) return undefined;
    const jwksUrl = rows.find((r) => r.jwks_url)?.jwks_url ?? undefined;
    return { issuer, audiences: [...new Set(rows.map((r) => r.audience))], ...(jwksUrl && { jwksUrl }) };
  }

  /**
   * The policy that allows this identity to start this release, audited either way. Refused
   * (TokenRefused, reason in words) when no policy's claims match, or none of the matching
   * ones covers the cloud, every account, the image name and the token's lifetime.
   */
  async authorize(identity: OidcIdentity, request: ReleaseRequest): Promise<TrustPolicy> {
    const matching = await this.matching(identity);
    const refuse = async (reason: string, policy?: TrustPolicy): Promise<never> => {
      await this.audit.record(actorOf(identity), 'release.start', policy ? subject(policy.id) : null, 'refused', {
        reason, ...identityDetail(identity, policy), cloud: request.cloud, targets: request.targets, imageName: request.imageName, sourceIp: request.sourceIp,
      });
      throw new TokenRefused(reason);
    };
    if (matching.policies.length === 0) return refuse(matching.reason);
    const reasons: string[] = [];
    for (const policy of matching.policies) {
      const why = await this.outsidePolicy(policy, identity, request);
      if (!why) return policy;
      reasons.push(`${policy.id}: ${why}`);
    }
    return refuse(reasons.join('; '), matching.policies[0]);
  }

  /** Records what an allowed start started, with who asked (issuer, subject, matched claims). */
  async recordUse(identity: OidcIdentity, policy: TrustPolicy, request: ReleaseRequest, releaseId: string): Promise<void> {
    await this.audit.record(actorOf(identity), 'release.start', subject(policy.id), 'ok', {
      releaseId, ...identityDetail(identity, policy), cloud: request.cloud, targets: request.targets, imageName: request.imageName, sourceIp: request.sourceIp,
    });
  }

  /** For reading releases: the clouds and names the identity's matching policies cover. */
  async readScopes(identity: OidcIdentity): Promise<Array<{ cloud: string; members: Set<string> }>> {
    const { policies, reason } = await this.matching(identity);
    if (policies.length === 0) throw new TokenRefused(reason);
    return Promise.all(policies.map(async (p) => ({ cloud: p.scope.split(':')[1]!, members: await this.members(p) })));
  }

  private async matching(identity: OidcIdentity): Promise<{ policies: TrustPolicy[]; reason: string }> {
    const { rows } = await this.pool.query<PolicyRow>(
      'SELECT * FROM trust_policies WHERE issuer = $1 AND audience = $2 ORDER BY created_at, id',
      [identity.issuer, identity.audience],
    );
    const all = rows.map(policyOf);
    const policies = all.filter((p) => unmatchedClaims(p.claims, identity.claims).length === 0);
    const closest = all.map((p) => `${p.id} (${unmatchedClaims(p.claims, identity.claims).join(', ')} differ)`).join('; ');
    const reason = all.length === 0
      ? `no trust policy for issuer ${identity.issuer} and audience ${identity.audience}`
      : `the claims of ${identity.subject} match no trust policy of ${identity.issuer}: ${closest}`;
    return { policies, reason };
  }

  private async outsidePolicy(policy: TrustPolicy, identity: OidcIdentity, request: ReleaseRequest): Promise<string | undefined> {
    const [, cloud] = policy.scope.split(':');
    if (request.cloud !== cloud) return `it is for ${policy.scope}, not for ${request.cloud} releases`;
    const members = await this.members(policy);
    const outside = request.targets.filter((t) => !members.has(t));
    if (outside.length > 0 || request.targets.length === 0) return `it is for ${policy.scope}; the job names ${outside.join(', ') || 'no account'}`;
    if (policy.imagePrefix && !request.imageName.startsWith(policy.imagePrefix))
      return `it allows images named "${policy.imagePrefix}…" only, not "${request.imageName}"`;
    const { iat, exp } = identity.claims;
    if (policy.maxTtlSeconds !== null && typeof iat === 'number' && typeof exp === 'number' && exp - iat > policy.maxTtlSeconds)
      return `it accepts tokens that live at most ${policy.maxTtlSeconds} s; this one lives ${exp - iat} s`;
    return undefined;
  }

  private async members(policy: TrustPolicy): Promise<Set<string>> {
    const [, cloud, target] = policy.scope.split(':') as [string, string, string];
    const { rows } = await this.pool.query<{ name: string }>('SELECT name FROM accounts WHERE cloud = $1 AND account_group = $2', [cloud, target]);
    return new Set([target, ...rows.map((r) => r.name)]);
  }
}

/** https, or http on loopback (a local issuer for trying things out); never plain http elsewhere. */
function checkIssuerUrl(flag: string, text: string): void {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new TrustPolicyInputError(`${flag}: expected an https URL such as https://token.actions.githubusercontent.com, got "${text}"`);
  }
  const loopback = ['127.0.0.1', '[::1]', 'localhost'].includes(url.hostname);
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && loopback))
    throw new TrustPolicyInputError(`${flag}: expected an https URL (http only on loopback), got "${text}"`);
}

interface PolicyRow {
  id: string;
  issuer: string;
  audience: string;
  jwks_url: string | null;
  claims: ClaimPatterns;
  scope_cloud: string;
  scope_target: string;
  image_prefix: string | null;
  max_ttl_seconds: number | null;
  description: string | null;
  created_at: Date;
  created_by: string;
}

function policyOf(row: PolicyRow): TrustPolicy {
  return {
    id: row.id,
    issuer: row.issuer,
    audience: row.audience,
    jwksUrl: row.jwks_url,
    claims: row.claims,
    scope: `release:${row.scope_cloud}:${row.scope_target}`,
    imagePrefix: row.image_prefix,
    maxTtlSeconds: row.max_ttl_seconds,
    description: row.description,
    createdAt: row.created_at,
    createdBy: row.created_by,
  };
}

function subject(id: string): string {
  return `trust:${id}`;
}

export function actorOf(identity: OidcIdentity): string {
  return `oidc:${identity.issuer}#${identity.subject}`;
}

/** Who asked, for the audit row: the claims a policy looked at (all of them when none matched). */
export function identityDetail(identity: OidcIdentity, policy?: TrustPolicy): Record<string, unknown> {
  const names = policy ? Object.keys(policy.claims) : Object.keys(identity.claims).filter((n) => !['exp', 'nbf', 'iat', 'jti'].includes(n));
  const claims = Object.fromEntries(names.map((n) => [n, identity.claims[n]]));
  const runId = identity.claims.run_id ?? identity.claims.pipeline_id;
  return { issuer: identity.issuer, subject: identity.subject, claims, ...(runId !== undefined && { runId }) };
}
