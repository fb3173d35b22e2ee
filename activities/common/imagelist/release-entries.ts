// The entries releases write into stored image lists (job field image_lists): one per image
// line, cloud and account, keeping its dc:identifier across releases so subscribers see a new
// version of the same image, and removed when the image it describes is deprecated.
import type pg from 'pg';
import { randomUUID } from 'node:crypto';
import { AuditLog } from '../../accounts/audit-log.js';
import { imageProblems } from './list-document.js';
import { ImageListInputError } from './store-errors.js';
import { nextVersion } from './version-order.js';

/** The image file a list entry points at, as served. */
export interface ListedFile {
  /** Public URL (http, https or file): hv:uri. */
  uri: string;
  sizeBytes: number;
  sha512: string;
}

/** What a release knows about its image, for its entry. */
export interface ReleaseEntry {
  cloud: string;
  account: string;
  imageLine: string;
  /** The release whose image the entry describes (catalog_images.release_token). */
  releaseToken: string;
  imageName: string;
  description: string;
  architecture: string;
  /** The build's version (kiwi's), when its name has one: sl:osversion until someone sets it. */
  sourceVersion?: string;
  file: ListedFile;
}

/** A stored list a job names, found by its dc:identifier or its dc:title. */
export interface NamedList {
  name: string;
  identifier: string;
  title: string;
  uri: string;
}

/** First entry of a line: version 1; each later release of it bumps the last number. */
const FIRST_ENTRY_VERSION = '1';

export class ReleaseEntryStore {
  private readonly audit: AuditLog;

  constructor(
    private readonly pool: pg.Pool,
    private readonly actor = 'worker',
  ) {
    this.audit = new AuditLog(pool);
  }

  /** The lists `names` mean, and the names no stored list has (or that several lists share as a title). */
  async resolve(names: string[]): Promise<{ found: NamedList[]; problems: string[] }> {
    const { rows } = await this.pool.query<{ identifier: string; title: string | null; uri: string | null }>(
      `SELECT identifier, metadata->>'dc:title' AS title, metadata->>'hv:uri' AS uri FROM imagelists ORDER BY identifier`,
    );
    const found: NamedList[] = [];
    const problems: string[] = [];
    for (const name of names) {
      const byId = rows.filter((r) => r.identifier === name.toLowerCase());
      const matches = byId.length ? byId : rows.filter((r) => r.title === name);
      if (matches.length === 1) {
        const m = matches[0]!;
        found.push({ name, identifier: m.identifier, title: m.title ?? '', uri: m.uri ?? '' });
      } else if (matches.length === 0) {
        const stored = rows.map((r) => `${JSON.stringify(r.title)} (${r.identifier})`).join(', ') || 'none';
        problems.push(
          `image_lists: no stored image list ${JSON.stringify(name)} (by dc:identifier or dc:title); stored: ${stored}`,
        );
      } else {
        problems.push(
          `image_lists: ${JSON.stringify(name)} is the title of ${matches.length} lists (${matches.map((m) => m.identifier).join(', ')}); give the dc:identifier`,
        );
      }
    }
    return { found, problems };
  }

  /**
   * Adds the line's entry to a list, or updates it: new file, size, sha512, title and a bumped
   * hv:version; keys someone set by hand (sl:os, sl:osname, hv:format, …) stay. Writing again
   * for the same release changes nothing more (an activity retry does not bump twice).
   */
  async write(
    listIdentifier: string,
    entry: ReleaseEntry,
  ): Promise<{ imageIdentifier: string; version: string }> {
    const client = await this.pool.connect();
    try {
      await client.query('BEGIN');
      // One writer per list at a time: the list row is the lock.
      const list = await client.query('SELECT 1 FROM imagelists WHERE identifier = $1 FOR UPDATE', [
        listIdentifier,
      ]);
      if (list.rowCount === 0)
        throw new ImageListInputError([`image_lists: the list ${listIdentifier} was deleted`]);
      const key = [listIdentifier, entry.cloud, entry.account, entry.imageLine];
      const { rows } = await client.query<{ image_identifier: string; release_token: string }>(
        `SELECT image_identifier, release_token FROM imagelist_release_entries
          WHERE list_identifier = $1 AND cloud = $2 AND account = $3 AND image_line = $4`,
        key,
      );
      const imageIdentifier = rows[0]?.image_identifier ?? randomUUID();
      const stored = await client.query<{ metadata: Record<string, unknown> }>(
        'SELECT metadata FROM imagelist_images WHERE list_identifier = $1 AND identifier = $2',
        [listIdentifier, imageIdentifier],
      );
      const before = stored.rows[0]?.metadata;
      const sameRelease = rows[0]?.release_token === entry.releaseToken;
      const previous = typeof before?.['hv:version'] === 'string' ? before['hv:version'] : undefined;
      const version =
        previous === undefined ? FIRST_ENTRY_VERSION : sameRelease ? previous : nextVersion(previous);
      const image = entryMetadata(imageIdentifier, entry, version, before);
      const problems = imageProblems(image);
      if (problems.length > 0)
        throw new ImageListInputError(problems.map((p) => `image_lists entry ${imageIdentifier}: ${p}`));
      await client.query(
        `INSERT INTO imagelist_images (list_identifier, identifier, metadata) VALUES ($1, $2, $3)
         ON CONFLICT (list_identifier, identifier) DO UPDATE SET metadata = $3, updated_at = now()`,
        [listIdentifier, imageIdentifier, image],
      );
      await client.query(
        `INSERT INTO imagelist_release_entries (list_identifier, cloud, account, image_line, image_identifier, release_token)
         VALUES ($1, $2, $3, $4, $5, $6)
         ON CONFLICT (list_identifier, cloud, account, image_line) DO UPDATE SET release_token = $6, updated_at = now()`,
        [...key, imageIdentifier, entry.releaseToken],
      );
      await client.query('UPDATE imagelists SET updated_at = now() WHERE identifier = $1', [listIdentifier]);
      await client.query('COMMIT');
      await this.audit.record(this.actor, 'imagelist.update', `imagelist:${listIdentifier}`, 'ok', {
        change: `release entry ${imageIdentifier} ${version} for ${entry.imageLine}`,
      });
      return { imageIdentifier, version };
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw error;
    } finally {
      client.release();
    }
  }

  /** The releases that made these images (the catalog knows each image's release). */
  async releasesOf(cloud: string, account: string, imageIds: string[]): Promise<string[]> {
    const { rows } = await this.pool.query<{ release_token: string }>(
      `SELECT DISTINCT release_token FROM catalog_images WHERE cloud = $1 AND account = $2 AND image_id = ANY($3)`,
      [cloud, account, imageIds],
    );
    return rows.map((r) => r.release_token);
  }
}

/** The hv:image object: what the release knows, over what was there (hand-set keys stay). */
function entryMetadata(
  identifier: string,
  entry: ReleaseEntry,
  version: string,
  before: Record<string, unknown> | undefined,
): Record<string, unknown> {
  return {
    // Defaults a person may change with `imagecast imagelist image set`.
    'sl:os': 'Linux',
    'sl:osversion': entry.sourceVersion ?? 'unknown',
    'sl:comments': '',
    'hv:hypervisor': 'kvm',
    ...before,
    'dc:identifier': identifier,
    'dc:title': entry.imageName,
    'dc:description': entry.description,
    'hv:uri': entry.file.uri,
    'hv:size': entry.file.sizeBytes,
    'sl:checksum:sha512': entry.file.sha512.toLowerCase(),
    'sl:arch': entry.architecture,
    'hv:version': version,
  };
}
