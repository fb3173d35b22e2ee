/**
 * Finds an OIDC issuer's key set (JWKS) from its discovery document
 * (`<issuer>/.well-known/openid-configuration`, OpenID Connect Discovery 1.0 §4), and the URL
 * rule both follow: https, or http on loopback for a local issuer.
 */
export class DiscoveryFailed extends Error {
  override name = 'DiscoveryFailed';
}

const LOOPBACK = new Set(['127.0.0.1', '[::1]', 'localhost']);

/** Why this URL may not be fetched for keys; undefined when it may. */
export function unfetchableUrl(text: string, allowHttpLoopback: boolean): string | undefined {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return `"${text}" is not a URL`;
  }
  if (url.protocol === 'https:') return undefined;
  if (url.protocol === 'http:' && allowHttpLoopback && LOOPBACK.has(url.hostname)) return undefined;
  return `${text} is not https${allowHttpLoopback ? ' (http only on loopback)' : ''}`;
}

export class IssuerDiscovery {
  private readonly cache = new Map<string, { jwksUrl: string; until: number }>();

  constructor(private readonly settings: { timeoutMs: number; maxAgeMs: number; allowHttpLoopback: boolean }) {}

  /** The issuer's `jwks_uri`, cached for maxAgeMs; a failed lookup is not cached. */
  async jwksUrl(issuer: string): Promise<string> {
    const cached = this.cache.get(issuer);
    if (cached && cached.until > Date.now()) return cached.jwksUrl;
    const bad = unfetchableUrl(issuer, this.settings.allowHttpLoopback);
    if (bad) throw new DiscoveryFailed(`issuer ${bad}`);
    const url = `${issuer.replace(/\/$/, '')}/.well-known/openid-configuration`;
    let document: Record<string, unknown>;
    try {
      const response = await fetch(url, { signal: AbortSignal.timeout(this.settings.timeoutMs), redirect: 'error' });
      if (!response.ok) throw new Error(`HTTP ${response.status}`);
      document = (await response.json()) as Record<string, unknown>;
    } catch (error) {
      throw new DiscoveryFailed(`${url}: ${(error as Error).message}`);
    }
    // A document that names another issuer is someone else's (OIDC Discovery §4.3).
    if (document.issuer !== issuer) throw new DiscoveryFailed(`${url} names issuer ${JSON.stringify(document.issuer)}, not ${issuer}`);
    const jwksUrl = document.jwks_uri;
    if (typeof jwksUrl !== 'string') throw new DiscoveryFailed(`${url} has no jwks_uri`);
    const badJwks = unfetchableUrl(jwksUrl, this.settings.allowHttpLoopback);
    if (badJwks) throw new DiscoveryFailed(`jwks_uri ${badJwks}`);
    this.cache.set(issuer, { jwksUrl, until: Date.now() + this.settings.maxAgeMs });
    return jwksUrl;
  }
}
