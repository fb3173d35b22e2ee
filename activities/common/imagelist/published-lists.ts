// What was last published of each list, read back from the copy publish keeps
// (migration 0009): the signed bytes, served by the gateway at /imagelists/<uuid>, and which
// published lists carry an image file, for the public catalog.
import type pg from 'pg';
import type { SignedListRef, SignedListsCarrying } from '../catalog/public-catalog.js';

/** Where the gateway serves a list's last signed copy. */
export const signedListPath = (identifier: string) => `/imagelists/${identifier}`;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** The last signed copy of a list as it was uploaded, or undefined (no such list, or never published here). */
export async function lastSignedCopy(pool: pg.Pool, identifier: string): Promise<Buffer | undefined> {
  if (!UUID.test(identifier)) return undefined;
  const { rows } = await pool.query<{ published_smime: Buffer | null }>(
    'SELECT published_smime FROM imagelists WHERE identifier = $1',
    [identifier],
  );
  return rows[0]?.published_smime ?? undefined;
}

/**
 * The catalog's hook: for checksums `sha512:<hex>`, the published lists whose last signed copy
 * has an image with that sl:checksum:sha512 (HEPiX lists carry sha512 only, so a file known by
 * its sha256 alone is in none). Expired lists are shown too, with their expiry: a subscriber
 * sees the same.
 */
export function signedListsCarrying(pool: pg.Pool): SignedListsCarrying {
  return async (checksums) => {
    const bySha512 = new Map<string, string>();
    for (const checksum of checksums) {
      const [algorithm, hex] = checksum.split(':');
      if (algorithm?.toLowerCase() === 'sha512' && hex) bySha512.set(hex.toLowerCase(), checksum);
    }
    const carrying = new Map<string, SignedListRef[]>();
    if (bySha512.size === 0) return carrying;
    const { rows } = await pool.query<{
      identifier: string;
      sha512: string;
      title: string | null;
      endorser: string | null;
      uri: string | null;
      expires_at: Date;
    }>(
      `SELECT DISTINCT l.identifier, lower(img -> 'hv:image' ->> 'sl:checksum:sha512') AS sha512,
              l.published_document -> 'hv:imagelist' ->> 'dc:title' AS title,
              l.published_document -> 'hv:imagelist' -> 'hv:endorser' -> 'hv:x509' ->> 'hv:dn' AS endorser,
              l.published_document -> 'hv:imagelist' ->> 'hv:uri' AS uri,
              l.expires_at
         FROM imagelists l,
              jsonb_array_elements(l.published_document -> 'hv:imagelist' -> 'hv:images') AS img
        WHERE l.published_smime IS NOT NULL
          AND lower(img -> 'hv:image' ->> 'sl:checksum:sha512') = ANY($1)
        ORDER BY title, l.identifier`,
      [[...bySha512.keys()]],
    );
    for (const row of rows) {
      const checksum = bySha512.get(row.sha512)!;
      const refs = carrying.get(checksum) ?? [];
      refs.push({
        uuid: row.identifier,
        ...(row.title && { title: row.title }),
        endorser: row.endorser ?? '',
        expiresAt: row.expires_at,
        url: signedListPath(row.identifier),
        ...(row.uri && { publishedUri: row.uri }),
      });
      carrying.set(checksum, refs);
    }
    return carrying;
  };
}
