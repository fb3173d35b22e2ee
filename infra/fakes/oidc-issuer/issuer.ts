import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomBytes } from 'node:crypto';
import { exportJWK, generateKeyPair, SignJWT, UnsecuredJWT, type CryptoKey, type JWK } from 'jose';

export type SigningAlg = 'RS256' | 'ES256';

export interface MintOptions {
  /** `aud`; default "imagecast". */
  audience?: string;
  /** From now; negative for a token that has already expired. Default 300 (GitHub's 5 minutes). */
  expiresInSeconds?: number;
  /** `nbf`, seconds since the epoch. */
  notBefore?: number;
  /** `iat`, seconds since the epoch; default now. */
  issuedAt?: number;
  /** Signed by a key the JWKS does not hold, under the current key's kid: a forgery. */
  signWithForeignKey?: boolean;
  /** `alg: none`, no signature. */
  algNone?: boolean;
}

export interface OidcIssuer {
  issuer: string;
  jwksUrl: string;
  /** An ID token with these claims (a `sub` in them wins over the default). */
  mint(claims: Record<string, unknown>, options?: MintOptions): Promise<string>;
  /** A new signing key and kid; the JWKS serves it and the one before, as issuers do while rotating. */
  rotate(): Promise<void>;
  /** How many times the JWKS was fetched. */
  jwksRequests(): number;
  stop(): Promise<void>;
}

interface SigningKey {
  kid: string;
  privateKey: CryptoKey;
  jwk: JWK;
}

/**
 * A real OIDC issuer on loopback, for tests and for trying keyless CI by hand: the discovery
 * document (OpenID Connect Discovery 1.0 §3) and a JWKS (RFC 7517), keys made with jose,
 * tokens shaped as CI systems mint them. It serves plain http, which the gateway accepts on
 * loopback only.
 */
export async function startOidcIssuer(options: { host?: string; port?: number; alg?: SigningAlg } = {}): Promise<OidcIssuer> {
  const alg = options.alg ?? 'RS256';
  const newKey = async (): Promise<SigningKey> => {
    const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
    const kid = randomBytes(8).toString('hex');
    return { kid, privateKey, jwk: { ...(await exportJWK(publicKey)), kid, alg, use: 'sig' } };
  };
  let current = await newKey();
  let previous: SigningKey | undefined;
  let jwksFetches = 0;
  let issuer = '';

  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    const json = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    if (req.method !== 'GET') return json(405, { error: 'GET only' });
    if (path === '/.well-known/openid-configuration') {
      return json(200, {
        issuer,
        jwks_uri: `${issuer}/.well-known/jwks`,
        response_types_supported: ['id_token'],
        subject_types_supported: ['public'],
        id_token_signing_alg_values_supported: [alg],
        claims_supported: ['sub', 'aud', 'exp', 'iat', 'iss', 'nbf', 'repository', 'ref', 'environment', 'run_id'],
      });
    }
    if (path === '/.well-known/jwks') {
      jwksFetches += 1;
      return json(200, { keys: [current.jwk, ...(previous ? [previous.jwk] : [])] });
    }
    json(404, { error: `no route ${path}` });
  });
  await new Promise<void>((resolve) => server.listen(options.port ?? 0, options.host ?? '127.0.0.1', resolve));
  const { address, port } = server.address() as AddressInfo;
  issuer = `http://${address.includes(':') ? `[${address}]` : address}:${port}`;

  return {
    issuer,
    jwksUrl: `${issuer}/.well-known/jwks`,
    async mint(claims, mint = {}) {
      const now = Math.floor(Date.now() / 1000);
      const body = { sub: 'repo:org/repo:ref:refs/heads/main', ...claims };
      const iat = mint.issuedAt ?? now;
      const exp = now + (mint.expiresInSeconds ?? 300);
      if (mint.algNone) {
        return new UnsecuredJWT(body).setIssuer(issuer).setAudience(mint.audience ?? 'imagecast').setIssuedAt(iat).setExpirationTime(exp).encode();
      }
      const key = mint.signWithForeignKey ? (await generateKeyPair(alg)).privateKey : current.privateKey;
      const jwt = new SignJWT(body)
        .setProtectedHeader({ alg, kid: current.kid, typ: 'JWT' })
        .setIssuer(issuer)
        .setAudience(mint.audience ?? 'imagecast')
        .setIssuedAt(iat)
        .setExpirationTime(exp);
      if (mint.notBefore !== undefined) jwt.setNotBefore(mint.notBefore);
      return jwt.sign(key);
    },
    async rotate() {
      previous = current;
      current = await newKey();
    },
    jwksRequests: () => jwksFetches,
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
