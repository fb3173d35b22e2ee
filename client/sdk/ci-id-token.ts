/**
 * Where a CI job's OIDC ID token comes from, the way each CI system hands it out, so a
 * release from CI needs no stored secret (docs/security.md, "Keyless CI").
 * - GitHub Actions (`permissions: id-token: write`): GET $ACTIONS_ID_TOKEN_REQUEST_URL with
 *   `&audience=…` and `Authorization: bearer $ACTIONS_ID_TOKEN_REQUEST_TOKEN`; the answer is
 *   `{"value": "<jwt>"}` (what actions/toolkit's core.getIDToken does).
 * - GitLab CI: the job's `id_tokens:` puts the token in a variable; we read IMAGECAST_ID_TOKEN.
 */
export type OidcSource = 'github' | 'gitlab' | { token: string | (() => Promise<string>) };

export class CiIdTokenError extends Error {
  override name = 'CiIdTokenError';
}

export const GITLAB_TOKEN_VARIABLE = 'IMAGECAST_ID_TOKEN';
/** A cached token is fetched again this long before it expires (a call must not carry a dying token). */
const RENEW_BEFORE_MS = 60_000;

/** A function that yields a currently valid ID token, fetching a new one when the last is near its `exp`. */
export function ciIdTokenSource(
  source: OidcSource,
  audience: string,
  env: NodeJS.ProcessEnv = process.env,
  now: () => number = Date.now,
): { get(): Promise<string>; invalidate(): void } {
  const fetchToken = tokenFetcher(source, audience, env);
  let cached: { token: string; renewAt: number } | undefined;
  return {
    async get() {
      if (cached && now() < cached.renewAt) return cached.token;
      const token = await fetchToken();
      const exp = expiryOf(token);
      // No exp we can read: use it once, ask again next time.
      cached = exp === undefined ? undefined : { token, renewAt: exp * 1000 - RENEW_BEFORE_MS };
      return token;
    },
    invalidate() {
      cached = undefined;
    },
  };
}

function tokenFetcher(source: OidcSource, audience: string, env: NodeJS.ProcessEnv): () => Promise<string> {
  if (source === 'github') return () => githubToken(audience, env);
  if (source === 'gitlab') {
    return async () => {
      const token = env[GITLAB_TOKEN_VARIABLE];
      if (!token) {
        throw new CiIdTokenError(
          `--oidc gitlab: the variable ${GITLAB_TOKEN_VARIABLE} is not set; declare it in the job: id_tokens: { ${GITLAB_TOKEN_VARIABLE}: { aud: "${audience}" } }`,
        );
      }
      return token.trim();
    };
  }
  if (typeof source === 'object' && source !== null && 'token' in source) {
    const { token } = source;
    return typeof token === 'function' ? token : async () => token;
  }
  throw new CiIdTokenError(`oidc: expected "github", "gitlab" or { token }, got ${JSON.stringify(source)}`);
}

async function githubToken(audience: string, env: NodeJS.ProcessEnv): Promise<string> {
  const requestUrl = env.ACTIONS_ID_TOKEN_REQUEST_URL;
  const requestToken = env.ACTIONS_ID_TOKEN_REQUEST_TOKEN;
  if (!requestUrl || !requestToken) {
    throw new CiIdTokenError(
      '--oidc github: ACTIONS_ID_TOKEN_REQUEST_URL and ACTIONS_ID_TOKEN_REQUEST_TOKEN are not set; run inside GitHub Actions with "permissions: id-token: write" on the job',
    );
  }
  const url = new URL(requestUrl);
  url.searchParams.set('audience', audience);
  let response: Response;
  try {
    response = await fetch(url, { headers: { authorization: `bearer ${requestToken}`, accept: 'application/json' } });
  } catch (error) {
    throw new CiIdTokenError(`--oidc github: the token request to ${url.origin} failed: ${(error as Error).message}`);
  }
  // Never the request token or the URL's query in a message: both open the door to a token.
  if (!response.ok) throw new CiIdTokenError(`--oidc github: the token request to ${url.origin} answered HTTP ${response.status}`);
  const body = (await response.json().catch(() => ({}))) as { value?: unknown };
  if (typeof body.value !== 'string' || body.value === '') throw new CiIdTokenError(`--oidc github: the token request to ${url.origin} answered no "value"`);
  return body.value;
}

/** The `exp` of a JWT, read without verifying (the gateway verifies); undefined if unreadable. */
export function expiryOf(jwt: string): number | undefined {
  try {
    const payload = JSON.parse(Buffer.from(jwt.split('.')[1] ?? '', 'base64url').toString('utf8')) as { exp?: unknown };
    return typeof payload.exp === 'number' ? payload.exp : undefined;
  } catch {
    return undefined;
  }
}
