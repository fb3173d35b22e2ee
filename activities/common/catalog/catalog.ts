import type pg from 'pg';

export type CatalogState = 'pending' | 'active' | 'deprecated' | 'deleted';

export interface CatalogImage {
  cloud: string;
  account: string;
  region: string;
  imageId: string;
  imageName: string;
  imageLine: string;
  releaseId: string;
  releaseToken: string;
  checksum: string;
  sourceVersion?: string;
  sourceRelease?: string;
  state: CatalogState;
  visibility?: string;
  replacementImageId?: string;
  replacementImageName?: string;
  createdAt: Date;
  activatedAt?: Date;
  deprecatedAt?: Date;
  deletedAt?: Date;
}

export type NewCatalogImage = Pick<
  CatalogImage,
  'cloud' | 'account' | 'region' | 'imageId' | 'imageName' | 'imageLine' | 'releaseId' | 'releaseToken' | 'checksum'
> &
  Partial<Pick<CatalogImage, 'sourceVersion' | 'sourceRelease'>>;

interface ImageKey {
  cloud: string;
  account: string;
  region: string;
  imageId: string;
}

/**
 * What outlives a release: every image made, per account and region, with its state and
 * replacement. Every write is idempotent, so a retried activity can repeat it safely.
 */
export class ImageCatalog {
  constructor(private readonly pool: pg.Pool) {}

  async recordImage(img: NewCatalogImage): Promise<void> {
    await this.pool.query(
      `INSERT INTO catalog_images (cloud, account, region, image_id, image_name, image_line, release_id,
                                   release_token, checksum, source_version, source_release)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
       ON CONFLICT (cloud, account, region, image_id) DO NOTHING`,
      [img.cloud, img.account, img.region, img.imageId, img.imageName, img.imageLine, img.releaseId,
       img.releaseToken, img.checksum, img.sourceVersion ?? null, img.sourceRelease ?? null],
    );
  }

  /** A release went out: its pending images become the line's active ones. */
  async activateRelease(releaseToken: string, visibility: string): Promise<number> {
    const result = await this.pool.query(
      `UPDATE catalog_images SET state = 'active', visibility = $2, activated_at = now()
       WHERE release_token = $1 AND state = 'pending'`,
      [releaseToken, visibility],
    );
    return result.rowCount ?? 0;
  }

  /** Active images of a line made by other releases: what a new release of the line retires. */
  async findReplaceable(q: { cloud: string; account: string; imageLine: string; excludeReleaseToken: string }): Promise<CatalogImage[]> {
    const result = await this.pool.query(
      `SELECT * FROM catalog_images
       WHERE cloud = $1 AND account = $2 AND image_line = $3 AND state = 'active' AND release_token <> $4
       ORDER BY created_at, region`,
      [q.cloud, q.account, q.imageLine, q.excludeReleaseToken],
    );
    return result.rows.map(toImage);
  }

  async findByName(q: { cloud: string; account: string; imageName: string }): Promise<CatalogImage[]> {
    const result = await this.pool.query(
      `SELECT * FROM catalog_images WHERE cloud = $1 AND account = $2 AND image_name = $3 ORDER BY region`,
      [q.cloud, q.account, q.imageName],
    );
    return result.rows.map(toImage);
  }

  async markDeprecated(q: ImageKey & { replacementImageId: string; replacementImageName: string }): Promise<void> {
    await this.pool.query(
      `UPDATE catalog_images
       SET state = 'deprecated', deprecated_at = COALESCE(deprecated_at, now()),
           replacement_image_id = $5, replacement_image_name = $6
       WHERE cloud = $1 AND account = $2 AND region = $3 AND image_id = $4 AND state <> 'deleted'`,
      [q.cloud, q.account, q.region, q.imageId, q.replacementImageId, q.replacementImageName],
    );
  }

  async markDeleted(q: ImageKey): Promise<void> {
    await this.pool.query(
      `UPDATE catalog_images SET state = 'deleted', deleted_at = COALESCE(deleted_at, now())
       WHERE cloud = $1 AND account = $2 AND region = $3 AND image_id = $4`,
      [q.cloud, q.account, q.region, q.imageId],
    );
  }

  /** A failed or cancelled run: its images that never went out are gone. */
  async discardRelease(releaseToken: string): Promise<number> {
    const result = await this.pool.query(
      `UPDATE catalog_images SET state = 'deleted', deleted_at = now() WHERE release_token = $1 AND state = 'pending'`,
      [releaseToken],
    );
    return result.rowCount ?? 0;
  }

  async listImages(q: { cloud?: string; account?: string; imageLine?: string; state?: CatalogState } = {}): Promise<CatalogImage[]> {
    const result = await this.pool.query(
      `SELECT * FROM catalog_images
       WHERE ($1::text IS NULL OR cloud = $1) AND ($2::text IS NULL OR account = $2)
         AND ($3::text IS NULL OR image_line = $3) AND ($4::text IS NULL OR state = $4)
       ORDER BY created_at, region`,
      [q.cloud ?? null, q.account ?? null, q.imageLine ?? null, q.state ?? null],
    );
    return result.rows.map(toImage);
  }
}

function toImage(row: Record<string, unknown>): CatalogImage {
  const optional = <T>(v: unknown) => (v === null ? undefined : (v as T));
  return {
    cloud: String(row.cloud),
    account: String(row.account),
    region: String(row.region),
    imageId: String(row.image_id),
    imageName: String(row.image_name),
    imageLine: String(row.image_line),
    releaseId: String(row.release_id),
    releaseToken: String(row.release_token),
    checksum: String(row.checksum),
    sourceVersion: optional<string>(row.source_version),
    sourceRelease: optional<string>(row.source_release),
    state: row.state as CatalogState,
    visibility: optional<string>(row.visibility),
    replacementImageId: optional<string>(row.replacement_image_id),
    replacementImageName: optional<string>(row.replacement_image_name),
    createdAt: row.created_at as Date,
    activatedAt: optional<Date>(row.activated_at),
    deprecatedAt: optional<Date>(row.deprecated_at),
    deletedAt: optional<Date>(row.deleted_at),
  };
}
