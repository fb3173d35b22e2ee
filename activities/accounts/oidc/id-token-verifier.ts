import { createRemoteJWKSet, decodeJwt, decodeProtectedHeader, errors, jwtVerify, type JWTPayload } from 'jose';
import { DiscoveryFailed, IssuerDiscovery, unfetchableUrl } from './issuer-discovery.js';

/** What a trusted issuer is known by (from the trust policies). */
export interface TrustedIssuer {
  issuer: string;
  audiences: string[];
  jwksUrl?: string;
}

export interface VerifiedIdToken {
  issuer: string;
  subject: string;
  /** The audience of the token that a trusted audience matched. */
  audience: string;
  claims: Record<string, unknown>;
  expiresAt: Date;
}

/** Refused: `reason` says why in words a CI user can act on (never echoes the token). */
export class IdTokenRefused extends Error {
  override name = 'IdTokenRefused';
  constructor(readonly reason: string) {
    super(`ID token refused: ${reason}`);
  }
}

export interface IdTokenVerifierOptions {
  /** Clock skew allowed on exp, nbf and iat; default 60 s. */
  leewaySeconds?: number;
  /** Discovery and JWKS fetches; default 5 s. */
  fetchTimeoutMs?: number;
  /** Least time between JWKS refetches for an unknown kid (jose's cooldown); default 30 s. */
  jwksCooldownMs?: number;
  /** Allow http:// issuers and JWKS on loopback (a local issuer); default true. */
  allowHttpLoopback?: boolean;
}

/** Asymmetric algorithms only: a shared-secret (HS*) or unsigned token proves nothing about CI. */
const ALGORITHMS = ['RS256', 'ES256'];

/** A compact JWS: three base64url parts. An `icast_…` CI token never looks like one. */
export function looksLikeJwt(bearer: string): boolean {
  return /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/.test(bearer);
}

/**
 * Verifies a CI system's OIDC ID token (GitHub Actions, GitLab, …) with jose: issuer trusted,
 * signature by a key of the issuer's JWKS (fetched again when a token names an unknown kid,
 * so key rotation needs nothing from us), RS256/ES256 only, exp/nbf/iat with leeway, an
 * audience the issuer's policies name, and a subject.
 */
export class IdTokenVerifier {
  private readonly leeway: number;
  private readonly timeoutMs: number;
  private readonly cooldownMs: number;
  private readonly allowHttpLoopback: boolean;
  private readonly discovery: IssuerDiscovery;
  private readonly keySets = new Map<string, ReturnType<typeof createRemoteJWKSet>>();

  constructor(options: IdTokenVerifierOptions = {}) {
    this.leeway = options.leewaySeconds ?? 60;
    this.timeoutMs = options.fetchTimeoutMs ?? 5000;
    this.cooldownMs = options.jwksCooldownMs ?? 30_000;
    this.allowHttpLoopback = options.allowHttpLoopback ?? true;
    this.discovery = new IssuerDiscovery({ timeoutMs: this.timeoutMs, maxAgeMs: 3600_000, allowHttpLoopback: this.allowHttpLoopback });
  }

  async verify(jwt: string, lookup: (issuer: string) => Promise<TrustedIssuer | undefined>): Promise<VerifiedIdToken> {
    let unverified: JWTPayload;
    let alg: unknown;
    try {
      unverified = decodeJwt(jwt);
      alg = decodeProtectedHeader(jwt).alg;
    } catch (error) {
      throw new IdTokenRefused(`not a JWT: ${(error as Error).message}`);
    }
    if (typeof alg !== 'string' || !ALGORITHMS.includes(alg)) throw new IdTokenRefused(`algorithm ${String(alg)} is not accepted (${ALGORITHMS.join(', ')} only)`);
    // Only to choose whose keys to check it with; nothing else is believed before the signature.
    const issuer = unverified.iss;
    if (typeof issuer !== 'string') throw new IdTokenRefused('the token has no "iss" claim');
    const trusted = await lookup(issuer);
    if (!trusted) throw new IdTokenRefused(`unknown issuer ${issuer} (no trust policy names it: imagecast trust add --issuer)`);
    const keys = this.keySet(await this.jwksUrlOf(trusted));
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(jwt, keys, {
        issuer,
        audience: trusted.audiences,
        algorithms: ALGORITHMS,
        clockTolerance: this.leeway,
        requiredClaims: ['exp', 'sub'],
      }));
    } catch (error) {
      throw new IdTokenRefused(reasonOf(error, unverified, trusted));
    }
    // jose accepts an iat in the future; a token issued "later" is a clock or forgery problem.
    if (typeof payload.iat === 'number' && payload.iat > Date.now() / 1000 + this.leeway)
      throw new IdTokenRefused(`issued in the future (iat ${isoOf(payload.iat)})`);
    const audiences = Array.isArray(payload.aud) ? payload.aud : [payload.aud];
    return {
      issuer,
      subject: payload.sub!,
      audience: trusted.audiences.find((a) => audiences.includes(a))!,
      claims: payload as Record<string, unknown>,
      expiresAt: new Date(payload.exp! * 1000),
    };
  }

  private async jwksUrlOf(trusted: TrustedIssuer): Promise<string> {
    if (trusted.jwksUrl) {
      const bad = unfetchableUrl(trusted.jwksUrl, this.allowHttpLoopback);
      if (bad) throw new IdTokenRefused(`the JWKS URL ${bad}`);
      return trusted.jwksUrl;
    }
    try {
      return await this.discovery.jwksUrl(trusted.issuer);
    } catch (error) {
      if (error instanceof DiscoveryFailed) throw new IdTokenRefused(`issuer discovery failed: ${error.message}`);
      throw error;
    }
  }

  private keySet(url: string): ReturnType<typeof createRemoteJWKSet> {
    let keys = this.keySets.get(url);
    if (!keys) {
      keys = createRemoteJWKSet(new URL(url), { timeoutDuration: this.timeoutMs, cooldownDuration: this.cooldownMs });
      this.keySets.set(url, keys);
    }
    return keys;
  }
}

function reasonOf(error: unknown, unverified: JWTPayload, trusted: TrustedIssuer): string {
  if (error instanceof errors.JWTExpired) return `expired at ${isoOf(unverified.exp)}`;
  if (error instanceof errors.JWTClaimValidationFailed) {
    if (error.claim === 'nbf') return `not valid before ${isoOf(unverified.nbf)}`;
    if (error.claim === 'aud') return `audience ${JSON.stringify(unverified.aud)} is not one of ${trusted.audiences.join(', ')}`;
    if (error.reason === 'missing') return `the token has no "${error.claim}" claim`;
    return `claim ${error.claim}: ${error.message}`;
  }
  if (error instanceof errors.JWSSignatureVerificationFailed) return "signature does not verify against the issuer's keys";
  if (error instanceof errors.JWKSNoMatchingKey) return "no key of the issuer's JWKS matches the token's kid";
  if (error instanceof errors.JOSEAlgNotAllowed) return `algorithm not accepted (${ALGORITHMS.join(', ')} only)`;
  if (error instanceof errors.JWKSTimeout) return "the issuer's JWKS did not answer in time";
  if (error instanceof errors.JOSEError) return `${error.code}: ${error.message}`;
  return `the issuer's keys could not be read: ${(error as Error).message}`;
}

function isoOf(seconds: unknown): string {
  return typeof seconds === 'number' ? new Date(seconds * 1000).toISOString() : String(seconds);
}
