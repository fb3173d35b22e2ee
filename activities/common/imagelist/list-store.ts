// The image lists Imagecast publishes and their images, in PostgreSQL (vmcaster's state).
// Every change is checked against schemas/imagelist.ts before it is stored, so a stored list
// is always one `publish` can sign; each refusal names the key, what was expected and what
// was given.
import type pg from 'pg';
import { randomUUID } from 'node:crypto';
import { AuditLog } from '../../accounts/audit-log.js';
import type { EndorserStore } from './endorser-store.js';
import { COMPUTED_LIST_KEYS, imageProblems, listProblems, type StoredImageList } from './list-document.js';
import { DEFAULT_LIFETIME_DAYS } from './hepix-date.js';
import { compareVersions } from './version-order.js';
import { ImageListInputError, ImageListNotFoundError } from './store-errors.js';
import { hepixValue, requireHepixKey, requireUuid } from './list-keys.js';
import { forgetRenewalFailure } from './renewal-failures.js';

export interface NewImageList {
  identifier?: string;
  endorserDn: string;
  version?: string;
  lifetimeDays?: number;
  metadata: Record<string, unknown>;
}

interface ListRow {
  identifier: string;
  endorser_dn: string;
  version: string;
  lifetime_days: number;
  published_lifetime_days: number | null;
  metadata: Record<string, unknown>;
  published_at: Date | null;
  expires_at: Date | null;
}

export class ImageListStore {
  private readonly audit: AuditLog;

  constructor(
    private readonly pool: pg.Pool,
    private readonly endorsers: EndorserStore,
    private readonly actor = 'imagecast',
  ) {
    this.audit = new AuditLog(pool);
  }

  async add(input: NewImageList): Promise<StoredImageList> {
    const identifier =
      input.identifier === undefined ? randomUUID() : requireUuid('--identifier', input.identifier);
    const list: StoredImageList = {
      identifier,
      endorserDn: input.endorserDn,
      version: input.version ?? '0.0.0',
      lifetimeDays: input.lifetimeDays ?? DEFAULT_LIFETIME_DAYS,
      metadata: input.metadata,
      images: [],
    };
    await this.check(list);
    const { rowCount } = await this.pool.query(
      `INSERT INTO imagelists (identifier, endorser_dn, version, lifetime_days, metadata) VALUES ($1, $2, $3, $4, $5)
       ON CONFLICT DO NOTHING`,
      [identifier, list.endorserDn, list.version, list.lifetimeDays, list.metadata],
    );
    if (rowCount === 0) throw new ImageListInputError([`--identifier: a list ${identifier} exists already`]);
    await this.audit.record(this.actor, 'imagelist.add', subject(identifier), 'ok');
    return this.get(identifier);
  }

  async get(identifier: string): Promise<StoredImageList> {
    const id = requireUuid('ID', identifier);
    const { rows } = await this.pool.query<ListRow>('SELECT * FROM imagelists WHERE identifier = $1', [id]);
    if (!rows[0]) throw new ImageListNotFoundError('image list', identifier, await this.identifiers());
    return this.withImages(rows[0]);
  }

  async list(): Promise<StoredImageList[]> {
    const { rows } = await this.pool.query<ListRow>(
      `SELECT * FROM imagelists ORDER BY metadata->>'dc:title', identifier`,
    );
    return Promise.all(rows.map((row) => this.withImages(row)));
  }

  async remove(identifier: string): Promise<void> {
    const list = await this.get(identifier);
    await this.pool.query('DELETE FROM imagelists WHERE identifier = $1', [list.identifier]);
    await this.audit.record(this.actor, 'imagelist.delete', subject(list.identifier), 'ok');
  }

  /** `set KEY VALUE`: a HEPiX key of the list, `endorser DN`, or `lifetime DAYS`. */
  async set(identifier: string, key: string, value: string): Promise<StoredImageList> {
    const list = await this.get(identifier);
    if (key === 'endorser') list.endorserDn = value;
    else if (key === 'lifetime') {
      if (!/^\d+$/.test(value) || Number(value) < 1)
        throw new ImageListInputError([
          `lifetime: expected a whole number of days, 1 or more, such as 28; given ${JSON.stringify(value)}`,
        ]);
      list.lifetimeDays = Number(value);
      // The lasting choice: renewal follows it from now on, not a one-off publish --lifetime.
      delete list.publishedLifetimeDays;
    } else if (key === 'hv:version') list.version = value;
    else {
      this.refuseComputed(key);
      requireHepixKey(key, ', or endorser or lifetime');
      list.metadata[key] = value;
    }
    return this.update(list, `set ${key}`);
  }

  async unset(identifier: string, key: string): Promise<StoredImageList> {
    const list = await this.get(identifier);
    this.refuseComputed(key);
    if (!(key in list.metadata))
      throw new ImageListInputError([
        `KEY: the list has no key ${JSON.stringify(key)} (it has: ${Object.keys(list.metadata).join(', ')})`,
      ]);
    delete list.metadata[key];
    return this.update(list, `unset ${key}`);
  }

  async addImage(identifier: string, image: Record<string, unknown>): Promise<StoredImageList> {
    const list = await this.get(identifier);
    const imageId = requireUuid('dc:identifier', String(image['dc:identifier'] ?? ''));
    const problems = imageProblems(image);
    if (problems.length > 0) throw new ImageListInputError(problems.map((p) => `image ${imageId}: ${p}`));
    const { rowCount } = await this.pool.query(
      `INSERT INTO imagelist_images (list_identifier, identifier, metadata) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING`,
      [list.identifier, imageId, { ...image, 'dc:identifier': imageId }],
    );
    if (rowCount === 0)
      throw new ImageListInputError([
        `dc:identifier: the list has an image ${imageId} already (use image set)`,
      ]);
    await this.touch(list.identifier, `image add ${imageId}`);
    return this.get(list.identifier);
  }

  async setImageKey(
    identifier: string,
    imageId: string,
    key: string,
    value: string | undefined,
  ): Promise<StoredImageList> {
    const list = await this.get(identifier);
    const id = requireUuid('IMAGE', imageId);
    const image = list.images.find((i) => i['dc:identifier'] === id);
    if (!image)
      throw new ImageListNotFoundError(
        'image',
        imageId,
        list.images.map((i) => String(i['dc:identifier'])),
        ` in list ${list.identifier}`,
      );
    if (key === 'dc:identifier')
      throw new ImageListInputError([
        'dc:identifier: an image keeps its identifier; remove it and add a new one',
      ]);
    requireHepixKey(key, '');
    if (value === undefined) {
      if (!(key in image))
        throw new ImageListInputError([`KEY: image ${id} has no key ${JSON.stringify(key)}`]);
      delete image[key];
    } else image[key] = hepixValue(key, value);
    const problems = imageProblems(image);
    if (problems.length > 0) throw new ImageListInputError(problems.map((p) => `image ${id}: ${p}`));
    await this.pool.query(
      'UPDATE imagelist_images SET metadata = $3, updated_at = now() WHERE list_identifier = $1 AND identifier = $2',
      [list.identifier, id, image],
    );
    await this.touch(list.identifier, `image ${value === undefined ? 'unset' : 'set'} ${id} ${key}`);
    return this.get(list.identifier);
  }

  async removeImage(identifier: string, imageId: string): Promise<StoredImageList> {
    const list = await this.get(identifier);
    const id = requireUuid('IMAGE', imageId);
    const { rowCount } = await this.pool.query(
      'DELETE FROM imagelist_images WHERE list_identifier = $1 AND identifier = $2',
      [list.identifier, id],
    );
    if (rowCount === 0)
      throw new ImageListNotFoundError(
        'image',
        imageId,
        list.images.map((i) => String(i['dc:identifier'])),
        ` in list ${list.identifier}`,
      );
    await this.touch(list.identifier, `image remove ${id}`);
    return this.get(list.identifier);
  }

  /**
   * Stores a list read from a file: a new one, or a newer version of a stored one (as vmcaster's
   * import, which only overwrites with a version that is not lower). Its images replace the stored ones.
   */
  async put(list: StoredImageList, force: boolean): Promise<{ created: boolean; previousVersion?: string }> {
    await this.check(list);
    for (const image of list.images) {
      const problems = imageProblems(image);
      if (problems.length > 0)
        throw new ImageListInputError(problems.map((p) => `image ${String(image['dc:identifier'])}: ${p}`));
    }
    const ids = list.images.map((image) => String(image['dc:identifier']));
    const twice = ids.filter((id, index) => ids.indexOf(id) !== index);
    if (twice.length > 0)
      throw new ImageListInputError([
        `hv:images: each dc:identifier once; given twice: ${[...new Set(twice)].join(', ')}`,
      ]);
    const client = await this.pool.connect();
    let stored: string | undefined;
    try {
      await client.query('BEGIN');
      const { rows } = await client.query<{ version: string }>(
        'SELECT version FROM imagelists WHERE identifier = $1 FOR UPDATE',
        [list.identifier],
      );
      stored = rows[0]?.version;
      if (stored !== undefined && !force && compareVersions(stored, list.version) < 0)
        throw new ImageListInputError([
          `hv:version: the stored list ${list.identifier} has version ${stored}, newer than the ${list.version} given; give --force to go back`,
        ]);
      await client.query(
        `INSERT INTO imagelists (identifier, endorser_dn, version, lifetime_days, metadata, published_at, expires_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7)
         ON CONFLICT (identifier) DO UPDATE SET endorser_dn = $2, version = $3, metadata = $5, published_at = $6, expires_at = $7,
           published_lifetime_days = NULL, updated_at = now()`,
        [
          list.identifier,
          list.endorserDn,
          list.version,
          list.lifetimeDays,
          list.metadata,
          list.publishedAt ?? null,
          list.expiresAt ?? null,
        ],
      );
      await client.query('DELETE FROM imagelist_images WHERE list_identifier = $1', [list.identifier]);
      for (const image of list.images)
        await client.query(
          'INSERT INTO imagelist_images (list_identifier, identifier, metadata) VALUES ($1, $2, $3)',
          [list.identifier, String(image['dc:identifier']).toLowerCase(), image],
        );
      await client.query('COMMIT');
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw error;
    } finally {
      client.release();
    }
    // What renewal failed on was the old publication's: the imported one starts afresh.
    await forgetRenewalFailure(this.pool, list.identifier);
    await this.audit.record(this.actor, 'imagelist.import', subject(list.identifier), 'ok', {
      version: list.version,
    });
    return { created: stored === undefined, ...(stored !== undefined && { previousVersion: stored }) };
  }

  /**
   * After an upload: the new version and dates, and the lifetime asked for (renewal keeps it),
   * unless someone published in between. Renewal failures of the list are over.
   */
  async recordPublished(
    identifier: string,
    from: string,
    to: string,
    publication: { created: Date; expires: Date; lifetimeDays: number },
    /** The signed list as uploaded and its JSON: kept for /imagelists/<uuid> and the catalog. */
    signed?: { smime: Buffer; document: unknown },
  ): Promise<void> {
    const { rowCount } = await this.pool.query(
      `UPDATE imagelists SET version = $3, published_at = $4, expires_at = $5, published_lifetime_days = $8, updated_at = now(),
              published_smime = COALESCE($6, published_smime), published_document = COALESCE($7, published_document)
        WHERE identifier = $1 AND version = $2`,
      [
        identifier,
        from,
        to,
        publication.created,
        publication.expires,
        signed?.smime ?? null,
        signed ? JSON.stringify(signed.document) : null,
        publication.lifetimeDays,
      ],
    );
    if (rowCount === 0)
      throw new Error(
        `list ${identifier} changed version while it was published (another publish?); the uploaded version ${to} is not recorded: publish again`,
      );
    await forgetRenewalFailure(this.pool, identifier);
    await this.audit.record(this.actor, 'imagelist.publish', subject(identifier), 'ok', { version: to });
  }

  private refuseComputed(key: string): void {
    const why = COMPUTED_LIST_KEYS[key];
    if (why) throw new ImageListInputError([`${key}: not set by hand: ${why}`]);
  }

  private async update(list: StoredImageList, change: string): Promise<StoredImageList> {
    await this.check(list);
    await this.pool.query(
      `UPDATE imagelists SET endorser_dn = $2, version = $3, lifetime_days = $4, metadata = $5, published_lifetime_days = $6,
              updated_at = now() WHERE identifier = $1`,
      [
        list.identifier,
        list.endorserDn,
        list.version,
        list.lifetimeDays,
        list.metadata,
        list.publishedLifetimeDays ?? null,
      ],
    );
    await this.audit.record(this.actor, 'imagelist.update', subject(list.identifier), 'ok', { change });
    return this.get(list.identifier);
  }

  /** The list's own keys must make a valid list with its endorser. */
  private async check(list: StoredImageList): Promise<void> {
    const endorser = await this.endorsers.describe(list.endorserDn);
    const problems = listProblems(list, endorser);
    if (problems.length > 0) throw new ImageListInputError(problems);
  }

  private async touch(identifier: string, change: string): Promise<void> {
    await this.pool.query('UPDATE imagelists SET updated_at = now() WHERE identifier = $1', [identifier]);
    await this.audit.record(this.actor, 'imagelist.update', subject(identifier), 'ok', { change });
  }

  private async withImages(row: ListRow): Promise<StoredImageList> {
    const { rows } = await this.pool.query<{ metadata: Record<string, unknown> }>(
      'SELECT metadata FROM imagelist_images WHERE list_identifier = $1 ORDER BY position',
      [row.identifier],
    );
    return {
      identifier: row.identifier,
      endorserDn: row.endorser_dn,
      version: row.version,
      lifetimeDays: row.lifetime_days,
      metadata: row.metadata,
      images: rows.map((r) => r.metadata),
      ...(row.published_at && { publishedAt: row.published_at }),
      ...(row.expires_at && { expiresAt: row.expires_at }),
      ...(row.published_lifetime_days !== null && { publishedLifetimeDays: row.published_lifetime_days }),
    };
  }

  private async identifiers(): Promise<string[]> {
    const { rows } = await this.pool.query<{ identifier: string }>(
      'SELECT identifier FROM imagelists ORDER BY identifier',
    );
    return rows.map((r) => r.identifier);
  }
}

function subject(identifier: string): string {
  return `imagelist:${identifier}`;
}
