import type pg from 'pg';
import type { ImageTestResult } from '../image-tests/run-image-tests.js';

export type CatalogState = 'pending' | 'active' | 'deprecated' | 'deleted';

/** One image Imagecast made in one region of one account, and what became of it. */
export interface CatalogImage {
  cloud: string;
  account: string;
  region: string;
  imageId: string;
  imageName: string;
  /** The job's name template (`demo-v{date}-b{release}`): images of one line replace each other. */
  imageLine: string;
  /** The workflow id; `releaseToken` is unique per run of it. */
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
  /** When the cloud says the deprecated image is due for deletion (GCE's `deleted` date). */
  deleteAfter?: Date;
  deletedAt?: Date;
  /** Set when its release was revoked (imagecast release revoke): when, by whom, why. */
  revokedAt?: Date;
  revokedBy?: string;
  revokeReason?: string;
}

export type NewCatalogImage = Pick<
  CatalogImage,
  | 'cloud'
  | 'account'
  | 'region'
  | 'imageId'
  | 'imageName'
  | 'imageLine'
  | 'releaseId'
  | 'releaseToken'
  | 'checksum'
> &
  Partial<Pick<CatalogImage, 'sourceVersion' | 'sourceRelease'>>;

/** One run of the test step: the instance of the new image and every test's result. */
export interface ImageTestRun {
  cloud: string;
  account: string;
  region: string;
  imageId: string;
  releaseId: string;
  releaseToken: string;
  instanceId: string;
  passed: boolean;
  /** From the launch request to the first SSH login; unset when SSH never answered. */
  sshAfterMs?: number;
  results: ImageTestResult[];
  testedAt?: Date;
}

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
  /** `pool` is shared with what records revocations (revocations.ts) in the same database. */
  constructor(readonly pool: pg.Pool) {}

  /**
   * Records a new image as `pending` (not yet released). A retry finds the row and leaves
   * it as it is, so a repeat never moves an image back from active or deprecated.
   */
  async recordImage(img: NewCatalogImage): Promise<void> {
    await this.pool.query(
      `INSERT INTO catalog_images (cloud, account, region, image_id, image_name, image_line, release_id,
                                   release_token, checksum, source_version, source_release)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
       ON CONFLICT (cloud, account, region, image_id) DO NOTHING`,
      [
        img.cloud,
        img.account,
        img.region,
        img.imageId,
        img.imageName,
        img.imageLine,
        img.releaseId,
        img.releaseToken,
        img.checksum,
        img.sourceVersion ?? null,
        img.sourceRelease ?? null,
      ],
    );
  }

  /**
   * A retry adopted an image an earlier run of the release made: it is now this run's, so
   * this run's activation, deprecation and cleanup treat it as its own. A row its earlier
   * run's cleanup marked deleted (the image outlived it) is pending again; a missing row
   * (the earlier run died before recording it) is added.
   */
  async adoptImage(img: NewCatalogImage): Promise<void> {
    await this.pool.query(
      `INSERT INTO catalog_images (cloud, account, region, image_id, image_name, image_line, release_id,
                                   release_token, checksum, source_version, source_release)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
       ON CONFLICT (cloud, account, region, image_id) DO UPDATE
         SET release_token = EXCLUDED.release_token, release_id = EXCLUDED.release_id,
             state = CASE WHEN catalog_images.state = 'deleted' THEN 'pending' ELSE catalog_images.state END,
             deleted_at = NULL`,
      [img.cloud, img.account, img.region, img.imageId, img.imageName, img.imageLine, img.releaseId, img.releaseToken,
        img.checksum, img.sourceVersion ?? null, img.sourceRelease ?? null],
    );
  }

  /**
   * A release went out: its pending images become the line's active ones. Returns how many
   * changed. Regions whose publish was skipped (`job resume --skip`) stay private: the catalog
   * must not call an image public that nobody can launch.
   */
  async activateRelease(releaseToken: string, visibility: string, privateRegions: string[] = []): Promise<number> {
    const result = await this.pool.query(
      `UPDATE catalog_images
       SET state = 'active', visibility = CASE WHEN region = ANY($3::text[]) THEN 'private' ELSE $2 END, activated_at = now()
       WHERE release_token = $1 AND state = 'pending'`,
      [releaseToken, visibility, privateRegions],
    );
    return result.rowCount ?? 0;
  }

  /** Active images of a line made by other releases: what a new release of the line retires. */
  async findReplaceable(q: {
    cloud: string;
    account: string;
    imageLine: string;
    excludeReleaseToken: string;
  }): Promise<CatalogImage[]> {
    const result = await this.pool.query<CatalogRow>(
      `SELECT * FROM catalog_images
       WHERE cloud = $1 AND account = $2 AND image_line = $3 AND state = 'active' AND release_token <> $4
       ORDER BY created_at, id`,
      [q.cloud, q.account, q.imageLine, q.excludeReleaseToken],
    );
    return result.rows.map(toImage);
  }

  /** Every image of that name in the account, any state, in every region. */
  async findByName(q: { cloud: string; account: string; imageName: string }): Promise<CatalogImage[]> {
    const result = await this.pool.query<CatalogRow>(
      `SELECT * FROM catalog_images WHERE cloud = $1 AND account = $2 AND image_name = $3 ORDER BY region, id`,
      [q.cloud, q.account, q.imageName],
    );
    return result.rows.map(toImage);
  }

  /** Keeps the first deprecation time on a repeat; a deleted image stays deleted. */
  async markDeprecated(
    q: ImageKey & { replacementImageId: string; replacementImageName: string; deleteAfter?: string },
  ): Promise<void> {
    await this.pool.query(
      `UPDATE catalog_images
       SET state = 'deprecated', deprecated_at = COALESCE(deprecated_at, now()),
           replacement_image_id = $5, replacement_image_name = $6,
           delete_after = COALESCE(delete_after, $7::timestamptz)
       WHERE cloud = $1 AND account = $2 AND region = $3 AND image_id = $4 AND state <> 'deleted'`,
      [q.cloud, q.account, q.region, q.imageId, q.replacementImageId, q.replacementImageName, q.deleteAfter ?? null],
    );
  }

  /** Keeps the first deletion time on a repeat. */
  async markDeleted(q: ImageKey): Promise<void> {
    await this.pool.query(
      `UPDATE catalog_images SET state = 'deleted', deleted_at = COALESCE(deleted_at, now())
       WHERE cloud = $1 AND account = $2 AND region = $3 AND image_id = $4`,
      [q.cloud, q.account, q.region, q.imageId],
    );
  }

  /** force_replace_image where an image keeps its id and takes a name (the local cloud's stand-in). */
  async renameImage(q: ImageKey & { imageName: string }): Promise<void> {
    await this.pool.query(
      `UPDATE catalog_images SET image_name = $5 WHERE cloud = $1 AND account = $2 AND region = $3 AND image_id = $4`,
      [q.cloud, q.account, q.region, q.imageId, q.imageName],
    );
  }

  /** A failed or cancelled run: its images that never went out are gone. Returns how many changed. */
  async discardRelease(releaseToken: string): Promise<number> {
    const result = await this.pool.query(
      `UPDATE catalog_images SET state = 'deleted', deleted_at = now() WHERE release_token = $1 AND state = 'pending'`,
      [releaseToken],
    );
    return result.rowCount ?? 0;
  }

  /** Whether a build (by checksum) of a line was already released (or is being released) in an account. */
  async hasReleasedBuild(q: { cloud: string; account: string; imageLine: string; checksum: string }): Promise<boolean> {
    const { rowCount } = await this.pool.query(
      `SELECT 1 FROM catalog_images
        WHERE cloud = $1 AND account = $2 AND image_line = $3 AND checksum = $4 AND state <> 'deleted' LIMIT 1`,
      [q.cloud, q.account, q.imageLine, q.checksum],
    );
    return (rowCount ?? 0) > 0;
  }

  /**
   * Keeps a test run's results. A retried test step ran the tests again: the latest run is
   * what counts, so a repeat replaces the row.
   */
  async recordTestRun(run: ImageTestRun): Promise<void> {
    await this.pool.query(
      `INSERT INTO image_test_runs (release_token, release_id, cloud, account, region, image_id, instance_id, passed, ssh_after_ms, results)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
       ON CONFLICT (release_token, image_id) DO UPDATE
         SET instance_id = EXCLUDED.instance_id, passed = EXCLUDED.passed, ssh_after_ms = EXCLUDED.ssh_after_ms,
             results = EXCLUDED.results, tested_at = now()`,
      [run.releaseToken, run.releaseId, run.cloud, run.account, run.region, run.imageId, run.instanceId, run.passed, run.sshAfterMs ?? null, JSON.stringify(run.results)],
    );
  }

  /** The test runs of a release (every run of its workflow id), oldest first. */
  async testRuns(releaseId: string): Promise<ImageTestRun[]> {
    const result = await this.pool.query<{
      release_token: string;
      release_id: string;
      cloud: string;
      account: string;
      region: string;
      image_id: string;
      instance_id: string;
      passed: boolean;
      ssh_after_ms: number | null;
      results: ImageTestResult[];
      tested_at: Date;
    }>(`SELECT * FROM image_test_runs WHERE release_id = $1 ORDER BY tested_at`, [releaseId]);
    return result.rows.map((r) => ({
      cloud: r.cloud,
      account: r.account,
      region: r.region,
      imageId: r.image_id,
      releaseId: r.release_id,
      releaseToken: r.release_token,
      instanceId: r.instance_id,
      passed: r.passed,
      ...(r.ssh_after_ms !== null && { sshAfterMs: r.ssh_after_ms }),
      results: r.results,
      testedAt: r.tested_at,
    }));
  }

  /** Images matching every filter given, oldest first. */
  async listImages(
    q: { cloud?: string; account?: string; imageLine?: string; state?: CatalogState } = {},
  ): Promise<CatalogImage[]> {
    const result = await this.pool.query<CatalogRow>(
      `SELECT * FROM catalog_images
       WHERE ($1::text IS NULL OR cloud = $1) AND ($2::text IS NULL OR account = $2)
         AND ($3::text IS NULL OR image_line = $3) AND ($4::text IS NULL OR state = $4)
       ORDER BY created_at, id`,
      [q.cloud ?? null, q.account ?? null, q.imageLine ?? null, q.state ?? null],
    );
    return result.rows.map(toImage);
  }
}

/** A `catalog_images` row as pg returns it: timestamptz as Date, NULL as null. */
export interface CatalogRow {
  cloud: string;
  account: string;
  region: string;
  image_id: string;
  image_name: string;
  image_line: string;
  release_id: string;
  release_token: string;
  checksum: string;
  source_version: string | null;
  source_release: string | null;
  state: CatalogState;
  visibility: string | null;
  replacement_image_id: string | null;
  replacement_image_name: string | null;
  created_at: Date;
  activated_at: Date | null;
  deprecated_at: Date | null;
  delete_after: Date | null;
  deleted_at: Date | null;
  /** Absent before migration 0006. */
  revoked_at?: Date | null;
  revoked_by?: string | null;
  revoke_reason?: string | null;
}

export function toImage(row: CatalogRow): CatalogImage {
  return {
    cloud: row.cloud,
    account: row.account,
    region: row.region,
    imageId: row.image_id,
    imageName: row.image_name,
    imageLine: row.image_line,
    releaseId: row.release_id,
    releaseToken: row.release_token,
    checksum: row.checksum,
    sourceVersion: row.source_version ?? undefined,
    sourceRelease: row.source_release ?? undefined,
    state: row.state,
    visibility: row.visibility ?? undefined,
    replacementImageId: row.replacement_image_id ?? undefined,
    replacementImageName: row.replacement_image_name ?? undefined,
    createdAt: row.created_at,
    activatedAt: row.activated_at ?? undefined,
    deprecatedAt: row.deprecated_at ?? undefined,
    ...(row.delete_after && { deleteAfter: row.delete_after }),
    deletedAt: row.deleted_at ?? undefined,
    ...(row.revoked_at && { revokedAt: row.revoked_at, revokedBy: row.revoked_by ?? undefined, revokeReason: row.revoke_reason ?? undefined }),
  };
}
