/**
 * A local stand-in for the Microsoft identity platform's token endpoint over HTTPS, for
 * keyless (workload identity) sign-in through the real @azure/identity + MSAL. It imitates:
 * - the client credentials grant with a federated credential, "Third case: Access token
 *   request with a federated credential"
 *   (https://learn.microsoft.com/en-us/entra/identity-platform/v2-oauth2-client-creds-grant-flow):
 *   `POST /{tenant}/oauth2/v2.0/token` (form: client_id, scope, grant_type=client_credentials,
 *   client_assertion_type=urn:ietf:params:oauth:client-assertion-type:jwt-bearer,
 *   client_assertion) → `{ token_type: "Bearer", expires_in, ext_expires_in, access_token }`,
 *   and its error shape (`error`, `error_description` "AADSTS…", `error_codes`, `timestamp`,
 *   `trace_id`, `correlation_id`);
 * - the tenant's OpenID configuration MSAL reads before it asks for a token
 *   (https://learn.microsoft.com/en-us/entra/identity-platform/v2-protocols-oidc#find-your-apps-openid-configuration-document-uri):
 *   `GET /{tenant}/v2.0/.well-known/openid-configuration`;
 * - the check of the assertion against the app's federated identity credentials
 *   (https://learn.microsoft.com/en-us/entra/workload-id/workload-identity-federation):
 *   signature by the issuer's JWKS (found through the issuer's discovery document), `iss`,
 *   `sub`, `aud` (default api://AzureADTokenExchange) and the time claims.
 * Left out: instance discovery (callers set disableInstanceDiscovery), secrets and
 * certificates as client credentials, every other grant, and any meaning of the access
 * tokens, which are opaque random strings a test compares with what a resource server saw.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createRemoteJWKSet, jwtVerify, type JWTVerifyGetKey } from 'jose';
import { makeSelfSignedCert } from '../../devstack/self-signed-cert.js';

/** A federated identity credential of an app (or user-assigned managed identity). */
export interface FederatedCredential {
  clientId: string;
  issuer: string;
  subject: string;
  /** Default api://AzureADTokenExchange, Entra's recommended audience. */
  audience?: string;
}

export interface TokenRequestRecord {
  tenant: string;
  clientId: string;
  scope: string;
  /** The client assertion as sent (a test compares it with what its token file held). */
  assertion: string;
  status: number;
  /** The minted access token, when one was. */
  accessToken?: string;
  /** The AADSTS error, when refused. */
  error?: string;
}

export interface IdentityFake {
  /** `https://127.0.0.1:PORT`: an account's activeDirectoryEndpointUrl. */
  authorityHost: string;
  /** The self-signed certificate served: what the sign-in must trust. */
  caPem: string;
  tokenRequests: TokenRequestRecord[];
  /** Paths of the metadata GETs (the OpenID configuration). */
  metadataRequests: string[];
  /** Lifetime of the tokens minted from now on (default 3599 s, as Entra). */
  setTokenLifetime(seconds: number): void;
  stop(): Promise<void>;
}

const ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';
const DEFAULT_AUDIENCE = 'api://AzureADTokenExchange';

class Refusal extends Error {
  constructor(
    readonly status: number,
    readonly error: string,
    readonly code: number,
    description: string,
  ) {
    super(`AADSTS${code}: ${description}`);
  }
}

export async function startIdentityFake(options: {
  federatedCredentials: FederatedCredential[];
  port?: number;
}): Promise<IdentityFake> {
  const { certPem, keyPem } = makeSelfSignedCert();
  const tokenRequests: TokenRequestRecord[] = [];
  const metadataRequests: string[] = [];
  const keySets = new Map<string, Promise<JWTVerifyGetKey>>();
  let lifetime = 3599;
  let host = '';

  /** The issuer's JWKS, found as Entra finds it: through the issuer's discovery document. */
  const keysOf = (issuer: string) => {
    let keys = keySets.get(issuer);
    if (!keys) {
      keys = fetch(`${issuer.replace(/\/$/, '')}/.well-known/openid-configuration`)
        .then((r) => r.json() as Promise<{ jwks_uri: string }>)
        .then((doc) => createRemoteJWKSet(new URL(doc.jwks_uri)));
      keys.catch(() => keySets.delete(issuer));
      keySets.set(issuer, keys);
    }
    return keys;
  };

  async function token(tenant: string, form: URLSearchParams): Promise<Record<string, unknown>> {
    const record: TokenRequestRecord = {
      tenant,
      clientId: form.get('client_id') ?? '',
      scope: form.get('scope') ?? '',
      assertion: form.get('client_assertion') ?? '',
      status: 0,
    };
    tokenRequests.push(record);
    try {
      if (form.get('grant_type') !== 'client_credentials')
        throw new Refusal(
          400,
          'unsupported_grant_type',
          70003,
          'The app requested an unsupported grant type.',
        );
      if (!record.scope)
        throw new Refusal(
          400,
          'invalid_request',
          900144,
          "The request body must contain the following parameter: 'scope'.",
        );
      if (form.get('client_assertion_type') !== ASSERTION_TYPE || !record.assertion)
        throw new Refusal(
          400,
          'invalid_request',
          900144,
          "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.",
        );
      const candidates = options.federatedCredentials.filter((f) => f.clientId === record.clientId);
      if (candidates.length === 0)
        throw new Refusal(
          400,
          'unauthorized_client',
          700016,
          `Application with identifier '${record.clientId}' was not found in the directory '${tenant}'.`,
        );
      await checkAssertion(record.assertion, candidates);
      record.accessToken = `fake-entra-${randomBytes(24).toString('base64url')}`;
      record.status = 200;
      return {
        token_type: 'Bearer',
        expires_in: lifetime,
        ext_expires_in: lifetime,
        access_token: record.accessToken,
      };
    } catch (error) {
      const refusal =
        error instanceof Refusal
          ? error
          : new Refusal(
              400,
              'invalid_client',
              50027,
              `JWT token is invalid or malformed (${(error as Error).message}).`,
            );
      record.status = refusal.status;
      record.error = refusal.message;
      throw refusal;
    }
  }

  async function checkAssertion(assertion: string, candidates: FederatedCredential[]): Promise<void> {
    const claims = JSON.parse(
      Buffer.from(assertion.split('.')[1] ?? '', 'base64url').toString('utf8') || '{}',
    ) as Record<string, unknown>;
    const match = candidates.find((f) => f.issuer === claims.iss && f.subject === claims.sub);
    if (!match) {
      throw new Refusal(
        400,
        'invalid_client',
        70021,
        `No matching federated identity record found for presented assertion. Assertion Issuer: '${String(claims.iss)}'. Assertion Subject: '${String(claims.sub)}'. Assertion Audience: '${String(claims.aud)}'.`,
      );
    }
    try {
      await jwtVerify(assertion, await keysOf(match.issuer), {
        issuer: match.issuer,
        subject: match.subject,
        audience: match.audience ?? DEFAULT_AUDIENCE,
      });
    } catch (error) {
      const code = (error as { code?: string }).code;
      if (code === 'ERR_JWT_EXPIRED')
        throw new Refusal(
          400,
          'invalid_client',
          700024,
          'Client assertion is not within its valid time range.',
        );
      if (code === 'ERR_JWT_CLAIM_VALIDATION_FAILED')
        throw new Refusal(
          400,
          'invalid_client',
          700212,
          `No matching federated identity record found for presented assertion audience '${String(claims.aud)}'.`,
        );
      throw new Refusal(
        400,
        'invalid_client',
        50027,
        `JWT token is invalid or malformed (${(error as Error).message}).`,
      );
    }
  }

  function openIdConfiguration(tenant: string) {
    const base = `${host}/${tenant}`;
    return {
      token_endpoint: `${base}/oauth2/v2.0/token`,
      token_endpoint_auth_methods_supported: ['client_secret_post', 'private_key_jwt', 'client_secret_basic'],
      jwks_uri: `${host}/${tenant}/discovery/v2.0/keys`,
      response_modes_supported: ['query', 'fragment', 'form_post'],
      subject_types_supported: ['pairwise'],
      id_token_signing_alg_values_supported: ['RS256'],
      response_types_supported: ['code', 'id_token', 'code id_token', 'id_token token'],
      scopes_supported: ['openid', 'profile', 'email', 'offline_access'],
      issuer: `${base}/v2.0`,
      authorization_endpoint: `${base}/oauth2/v2.0/authorize`,
      device_authorization_endpoint: `${base}/oauth2/v2.0/devicecode`,
      end_session_endpoint: `${base}/oauth2/v2.0/logout`,
      tenant_region_scope: 'EU',
      cloud_instance_name: 'microsoftonline.com',
    };
  }

  const server: Server = createServer({ cert: certPem, key: keyPem }, (req, res) => {
    void route(req).then(
      (body) => json(res, 200, body),
      (error: unknown) => {
        const r = error instanceof Refusal ? error : new Refusal(500, 'server_error', 90000, String(error));
        json(res, r.status, {
          error: r.error,
          error_description: r.message,
          error_codes: [r.code],
          timestamp: new Date()
            .toISOString()
            .replace('T', ' ')
            .replace(/\.\d+Z$/, 'Z'),
          trace_id: randomUUID(),
          correlation_id: randomUUID(),
        });
      },
    );
  });

  async function route(req: IncomingMessage): Promise<Record<string, unknown>> {
    const url = new URL(req.url ?? '/', 'https://fake');
    const tokenPath = /^\/([^/]+)\/oauth2\/v2\.0\/token$/.exec(url.pathname);
    if (req.method === 'POST' && tokenPath)
      return token(tokenPath[1]!, new URLSearchParams(await bodyOf(req)));
    const configPath = /^\/([^/]+)\/v2\.0\/\.well-known\/openid-configuration$/.exec(url.pathname);
    if (req.method === 'GET' && configPath) {
      metadataRequests.push(url.pathname);
      return openIdConfiguration(configPath[1]!);
    }
    throw new Refusal(
      404,
      'invalid_request',
      90002,
      `No route for ${req.method ?? ''} ${url.pathname} in this fake.`,
    );
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => resolve());
  });
  host = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    authorityHost: host,
    caPem: certPem,
    tokenRequests,
    metadataRequests,
    setTokenLifetime(seconds) {
      lifetime = seconds;
    },
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

async function bodyOf(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

function json(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
  });
  res.end(text);
}
