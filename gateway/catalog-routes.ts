import { createHash } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { PublicCatalog, PublicCatalogQuery } from '../activities/common/catalog/public-catalog.js';
import { renderCatalogPage } from './catalog-page.js';

/** The public catalog's paths: anyone may read them, no token (docs/catalog.md). */
export const CATALOG_PATHS = { page: '/catalog', json: '/catalog.json' } as const;

/** How long browsers and proxies may keep a catalog answer: a release shows within a minute. */
const MAX_AGE_SECONDS = 60;
/** Search words longer than this are no one's search. */
const MAX_PARAM_LENGTH = 200;

/** The page allows its own inline style and form, nothing else (no script at all). */
const PAGE_SECURITY_HEADERS = {
  'content-security-policy':
    "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
};

export function isCatalogRequest(method: string | undefined, path: string): boolean {
  return (
    (method === 'GET' || method === 'HEAD') && (path === CATALOG_PATHS.page || path === CATALOG_PATHS.json)
  );
}

/** Answers GET/HEAD /catalog (HTML) and /catalog.json, with ETag revalidation. */
export async function serveCatalog(
  catalog: PublicCatalog,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://gateway');
  const query = catalogQuery(url.searchParams);
  const page = await catalog.page(query);
  const [contentType, body, extra] =
    url.pathname === CATALOG_PATHS.json
      ? [
          'application/json',
          JSON.stringify({ query, ...page }, null, 1),
          { 'access-control-allow-origin': '*' },
        ]
      : ['text/html; charset=utf-8', renderCatalogPage(page, query), PAGE_SECURITY_HEADERS];
  const etag = `"${createHash('sha256').update(body).digest('base64url').slice(0, 27)}"`;
  const headers = {
    'content-type': contentType,
    'cache-control': `public, max-age=${MAX_AGE_SECONDS}`,
    etag,
    ...extra,
  };
  if (req.headers['if-none-match'] === etag) {
    res.writeHead(304, headers);
    res.end();
    return;
  }
  res.writeHead(200, { ...headers, 'content-length': Buffer.byteLength(body) });
  res.end(req.method === 'HEAD' ? undefined : body);
}

function catalogQuery(params: URLSearchParams): PublicCatalogQuery {
  const query: PublicCatalogQuery = {};
  for (const key of ['q', 'cloud', 'arch'] as const) {
    const value = params.get(key)?.trim().slice(0, MAX_PARAM_LENGTH);
    if (value) query[key] = value;
  }
  return query;
}
