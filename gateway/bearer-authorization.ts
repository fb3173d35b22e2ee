import type pg from 'pg';
import { AuditLog } from '../activities/accounts/audit-log.js';
import { CiTokens, TokenRefused, type ReleaseRequest } from '../activities/accounts/ci-tokens.js';
import { actorOf, identityDetail, TrustPolicies } from '../activities/accounts/oidc/trust-policies.js';
import { IdTokenRefused, IdTokenVerifier, looksLikeJwt } from '../activities/accounts/oidc/id-token-verifier.js';

/** What the gateway may do with an allowed start: record what it started. */
export interface AllowedStart {
  recordUse(releaseId: string): Promise<void>;
}

/** A cloud and the account/group names a bearer may read releases of. */
export interface ReadScope {
  cloud: string;
  members: Set<string>;
  /** What the bearer may do there besides reading: start releases (absent: the same) or revoke them. */
  action?: 'release' | 'revoke';
  /** As written, e.g. `revoke:ec2:sles-prod` (tokens only). */
  scope?: string;
}

/** Who a bearer is (for the audit log and a decision's `by`) and what releases it covers. */
export interface BearerAccess {
  actor: string;
  scopes: ReadScope[];
  /** Audit detail naming the identity: the token id, or issuer, subject and claims. */
  detail: Record<string, unknown>;
  /** Set for an `icast_…` token (its uses are counted). */
  tokenId?: string;
}

/**
 * The gateway's two kinds of bearer, behind one door: an `icast_…` token (`imagecast token
 * create`) or a CI's OIDC ID token (a JWT), allowed by trust policies (`imagecast trust add`).
 * Either way a refusal is a TokenRefused whose reason says which check failed, and is audited.
 */
export class BearerAuthorization {
  private readonly tokens: CiTokens;
  private readonly trust: TrustPolicies;
  private readonly audit: AuditLog;

  constructor(
    pool: pg.Pool,
    private readonly verifier: IdTokenVerifier = new IdTokenVerifier(),
  ) {
    this.tokens = new CiTokens(pool);
    this.trust = new TrustPolicies(pool);
    this.audit = new AuditLog(pool);
  }

  async authorizeStart(bearer: string, request: ReleaseRequest): Promise<AllowedStart> {
    if (!looksLikeJwt(bearer)) {
      const use = await this.tokens.authorize(bearer, request);
      return { recordUse: (releaseId) => this.tokens.recordUse(use, request, releaseId) };
    }
    const identity = await this.verify(bearer, { cloud: request.cloud, targets: request.targets, imageName: request.imageName, sourceIp: request.sourceIp });
    const policy = await this.trust.authorize(identity, request);
    return { recordUse: (releaseId) => this.trust.recordUse(identity, policy, request, releaseId) };
  }

  async access(bearer: string, sourceIp: string): Promise<BearerAccess> {
    if (!looksLikeJwt(bearer)) {
      const scope = await this.tokens.check(bearer, sourceIp);
      return { actor: `token:${scope.id}`, scopes: [scope], detail: { token: scope.id }, tokenId: scope.id };
    }
    const identity = await this.verify(bearer, { sourceIp });
    return { actor: actorOf(identity), scopes: await this.trust.readScopes(identity), detail: identityDetail(identity) };
  }

  /** Counts a revoke against the token's max_uses; false when it has none left. OIDC bearers have no count. */
  async spend(access: BearerAccess): Promise<boolean> {
    return access.tokenId ? this.tokens.spend(access.tokenId) : true;
  }

  /** A decision (resume, abort) taken through the gateway, allowed or refused, in the audit log. */
  async recordDecision(access: BearerAccess, action: string, releaseId: string, outcome: 'ok' | 'refused' | 'failed', detail: Record<string, unknown>): Promise<void> {
    await this.audit.record(access.actor, action, `release:${releaseId}`, outcome, { ...access.detail, ...detail });
  }

  /** A verified identity, or a refusal audited with what the token claimed (unverified, so marked so). */
  private async verify(jwt: string, context: Record<string, unknown>) {
    try {
      return await this.verifier.verify(jwt, (issuer) => this.trust.trustedIssuer(issuer));
    } catch (error) {
      if (!(error instanceof IdTokenRefused)) throw error;
      await this.audit.record('oidc:unverified', 'release.start', null, 'refused', { reason: error.reason, ...context });
      throw new TokenRefused(error.reason);
    }
  }
}
