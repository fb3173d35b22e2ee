import { createHash } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type pg from 'pg';
import { lastSignedCopy } from '../activities/common/imagelist/published-lists.js';
import { SIGNED_LIST_CONTENT_TYPE } from '../activities/common/imagelist/publish-list.js';

/** `/imagelists/<uuid>`: the last signed copy of a published list, for anyone (docs/imagelists.md). */
const IMAGELIST_PATH = /^\/imagelists\/([^/]+)$/;

/** A renewal republishes within hours of expiry; a minute of caching keeps it fresh. */
const MAX_AGE_SECONDS = 60;

export function imageListRequest(method: string | undefined, path: string): string | undefined {
  if (method !== 'GET' && method !== 'HEAD') return undefined;
  const match = IMAGELIST_PATH.exec(path);
  return match ? decodeURIComponent(match[1]!) : undefined;
}

/**
 * The signed list as it was uploaded, byte for byte (S/MIME multipart/signed): what vmcatcher
 * and its successors fetch and verify. Sent as text/plain, as a web server sends a `.list`
 * file, with an ETag; 404 naming the id when no list of that id was published.
 */
export async function serveImageList(
  pool: pg.Pool,
  identifier: string,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<void> {
  const body = await lastSignedCopy(pool, identifier);
  if (!body) {
    const message = `no published image list ${identifier} (publish one with imagecast imagelist publish)\n`;
    res.writeHead(404, {
      'content-type': 'text/plain; charset=utf-8',
      'content-length': Buffer.byteLength(message),
      'x-content-type-options': 'nosniff',
    });
    res.end(req.method === 'HEAD' ? undefined : message);
    return;
  }
  const etag = `"${createHash('sha256').update(body).digest('base64url').slice(0, 27)}"`;
  const headers = {
    'content-type': SIGNED_LIST_CONTENT_TYPE,
    'cache-control': `public, max-age=${MAX_AGE_SECONDS}`,
    'access-control-allow-origin': '*',
    'x-content-type-options': 'nosniff',
    etag,
  };
  if (req.headers['if-none-match'] === etag) {
    res.writeHead(304, headers);
    res.end();
    return;
  }
  res.writeHead(200, { ...headers, 'content-length': body.length });
  res.end(req.method === 'HEAD' ? undefined : body);
}
