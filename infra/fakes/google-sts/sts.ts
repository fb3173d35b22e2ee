// A local stand-in for Google's Security Token Service token exchange (workload identity
// federation), for tests and for trying keyless GCE accounts by hand:
//   POST /v1/token  — https://cloud.google.com/iam/docs/reference/sts/rest/v1/TopLevel/token
//     form-encoded grant_type=urn:ietf:params:oauth:grant-type:token-exchange, subject_token,
//     subject_token_type, audience, requested_token_type, scope (RFC 8693) →
//     { access_token, issued_token_type, token_type: "Bearer", expires_in }.
//     The subject token is verified as Google verifies an OIDC provider's: signature against
//     the issuer's JWKS, `iss`, `exp`, and `aud` among the provider's allowed audiences
//     (default: "https:" + the provider's resource name, Google's default). Errors are OAuth 2.0
//     errors (RFC 6749 §5.2): { error: "invalid_grant" | "invalid_request" | …, error_description }.
//   POST /v1/projects/-/serviceAccounts/EMAIL:generateAccessToken — the IAM Credentials API
//     (https://cloud.google.com/iam/docs/reference/credentials/rest/v1/projects.serviceAccounts/generateAccessToken),
//     for configurations with service_account_impersonation_url: Authorization: Bearer <an STS
//     token this fake issued, unexpired>, body { scope, lifetime: "3600s" } → { accessToken, expireTime }.
// Left out: attribute mappings and conditions, workforce pools, SAML, AWS and mTLS subject
// tokens, options={userProject}, client authentication, quotas.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomBytes } from 'node:crypto';
import { createRemoteJWKSet, jwtVerify } from 'jose';

export const TOKEN_EXCHANGE_GRANT = 'urn:ietf:params:oauth:grant-type:token-exchange';
export const ACCESS_TOKEN_TYPE = 'urn:ietf:params:oauth:token-type:access_token';
const SUBJECT_TOKEN_TYPES = [
  'urn:ietf:params:oauth:token-type:jwt',
  'urn:ietf:params:oauth:token-type:id_token',
];

export interface StsProvider {
  /** `//iam.googleapis.com/projects/N/locations/global/workloadIdentityPools/P/providers/PR`. */
  audience: string;
  /** The OIDC issuer whose tokens this provider trusts (`iss`). */
  issuer: string;
  /** Its JWKS; default `${issuer}/.well-known/jwks` (the local OIDC issuer's). */
  jwksUrl?: string;
  /** Accepted `aud` values; default `https:` + audience, as Google's default. */
  allowedAudiences?: string[];
}

export interface StsExchange {
  audience: string;
  subjectToken: string;
  subjectTokenType: string;
  scope: string;
  /** The token answered, or undefined when refused. */
  accessToken?: string;
  refused?: string;
}

export interface Impersonation {
  serviceAccount: string;
  /** The STS token it was asked with. */
  bearer: string;
  scope: string[];
  lifetime: string;
  accessToken: string;
}

export interface GoogleStsFake {
  /** `http://127.0.0.1:PORT`. */
  endpoint: string;
  /** What to put in a configuration's token_url. */
  tokenUrl: string;
  /** service_account_impersonation_url for a service account email. */
  impersonationUrl(email: string): string;
  /** Lifetime of the tokens issued from now on, in seconds (default 3600). */
  expiresInSeconds: number;
  exchanges(): StsExchange[];
  impersonations(): Impersonation[];
  stop(): Promise<void>;
}

class OAuthError extends Error {
  constructor(
    readonly status: number,
    readonly error: string,
    description: string,
  ) {
    super(description);
  }
}

async function readText(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

function send(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
  });
  res.end(text);
}

export async function startGoogleStsFake(options: {
  providers: StsProvider[];
  host?: string;
  port?: number;
}): Promise<GoogleStsFake> {
  const jwks = new Map(
    options.providers.map((p) => [
      p.audience,
      createRemoteJWKSet(new URL(p.jwksUrl ?? `${p.issuer}/.well-known/jwks`)),
    ]),
  );
  const exchanges: StsExchange[] = [];
  const impersonations: Impersonation[] = [];
  /** Tokens this fake issued (STS ones only can be used to impersonate), with their expiry. */
  const issued = new Map<string, { expiresAt: number; sts: boolean }>();
  const newToken = (prefix: string) => `${prefix}.${randomBytes(24).toString('base64url')}`;

  async function exchange(form: URLSearchParams): Promise<unknown> {
    const field = (name: string) => {
      const value = form.get(name);
      if (!value) throw new OAuthError(400, 'invalid_request', `${name} is required`);
      return value;
    };
    if (field('grant_type') !== TOKEN_EXCHANGE_GRANT)
      throw new OAuthError(400, 'unsupported_grant_type', `grant_type must be ${TOKEN_EXCHANGE_GRANT}`);
    if (field('requested_token_type') !== ACCESS_TOKEN_TYPE)
      throw new OAuthError(400, 'invalid_request', `requested_token_type must be ${ACCESS_TOKEN_TYPE}`);
    const record: StsExchange = {
      audience: field('audience'),
      subjectToken: field('subject_token'),
      subjectTokenType: field('subject_token_type'),
      scope: form.get('scope') ?? '',
    };
    exchanges.push(record);
    try {
      if (!SUBJECT_TOKEN_TYPES.includes(record.subjectTokenType))
        throw new OAuthError(
          400,
          'invalid_request',
          `subject_token_type ${record.subjectTokenType} is not supported for an OIDC provider`,
        );
      const provider = options.providers.find((p) => p.audience === record.audience);
      if (!provider)
        throw new OAuthError(
          400,
          'invalid_target',
          'The target service indicated by the "audience" parameters is invalid.',
        );
      try {
        await jwtVerify(record.subjectToken, jwks.get(provider.audience)!, {
          issuer: provider.issuer,
          audience: provider.allowedAudiences ?? [`https:${provider.audience}`],
          algorithms: ['RS256', 'ES256'],
        });
      } catch (error) {
        throw new OAuthError(
          400,
          'invalid_grant',
          `The subject token is invalid: ${(error as Error).message}`,
        );
      }
      const accessToken = newToken('ya29.sts');
      issued.set(accessToken, { expiresAt: Date.now() + fake.expiresInSeconds * 1000, sts: true });
      record.accessToken = accessToken;
      return {
        access_token: accessToken,
        issued_token_type: ACCESS_TOKEN_TYPE,
        token_type: 'Bearer',
        expires_in: fake.expiresInSeconds,
      };
    } catch (error) {
      record.refused = (error as Error).message;
      throw error;
    }
  }

  function impersonate(email: string, authorization: string | undefined, body: string): unknown {
    const bearer = /^Bearer (.+)$/.exec(authorization ?? '')?.[1] ?? '';
    const known = issued.get(bearer);
    if (!known?.sts || known.expiresAt <= Date.now()) {
      throw new OAuthError(
        401,
        'UNAUTHENTICATED',
        'Request had invalid authentication credentials. Expected OAuth 2 access token.',
      );
    }
    const request = (JSON.parse(body || '{}') ?? {}) as { scope?: string[]; lifetime?: string };
    if (!Array.isArray(request.scope) || request.scope.length === 0)
      throw new OAuthError(400, 'INVALID_ARGUMENT', 'scope is required');
    const accessToken = newToken('ya29.impersonated');
    const expiresAt = Date.now() + fake.expiresInSeconds * 1000;
    issued.set(accessToken, { expiresAt, sts: false });
    impersonations.push({
      serviceAccount: email,
      bearer,
      scope: request.scope,
      lifetime: request.lifetime ?? '3600s',
      accessToken,
    });
    return { accessToken, expireTime: new Date(expiresAt).toISOString() };
  }

  const server = createServer((req, res) => {
    void (async () => {
      try {
        const path = (req.url ?? '/').split('?')[0]!;
        const body = await readText(req);
        if (req.method === 'POST' && path === '/v1/token')
          return send(res, 200, await exchange(new URLSearchParams(body)));
        const account = /^\/v1\/projects\/-\/serviceAccounts\/([^/:]+):generateAccessToken$/.exec(path);
        if (req.method === 'POST' && account) {
          try {
            return send(
              res,
              200,
              impersonate(decodeURIComponent(account[1]!), req.headers.authorization, body),
            );
          } catch (error) {
            // The IAM Credentials API answers Google's JSON error format, not OAuth's.
            const e =
              error instanceof OAuthError ? error : new OAuthError(400, 'INVALID_ARGUMENT', String(error));
            return send(res, e.status, { error: { code: e.status, message: e.message, status: e.error } });
          }
        }
        send(res, 404, { error: 'not_found', error_description: `no route ${req.method} ${path}` });
      } catch (error) {
        const e = error instanceof OAuthError ? error : new OAuthError(500, 'server_error', String(error));
        send(res, e.status, { error: e.error, error_description: e.message });
      }
    })();
  });
  await new Promise<void>((resolve) =>
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', resolve),
  );
  const { address, port } = server.address() as AddressInfo;
  const endpoint = `http://${address.includes(':') ? `[${address}]` : address}:${port}`;

  const fake: GoogleStsFake = {
    endpoint,
    tokenUrl: `${endpoint}/v1/token`,
    impersonationUrl: (email) => `${endpoint}/v1/projects/-/serviceAccounts/${email}:generateAccessToken`,
    expiresInSeconds: 3600,
    exchanges: () => exchanges.map((e) => ({ ...e })),
    impersonations: () => impersonations.map((i) => ({ ...i })),
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
  return fake;
}
