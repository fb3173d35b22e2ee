import type pg from 'pg';
import { toImage, type CatalogImage, type CatalogRow } from './catalog.js';

interface ImageKey {
  cloud: string;
  account: string;
  region: string;
  imageId: string;
}

/**
 * The catalog's side of revoking a release: which images it made (in every account), which
 * images it had replaced, and the revoked and restored states. Every write is idempotent.
 */
export class CatalogRevocations {
  constructor(private readonly pool: pg.Pool) {}

  /**
   * Every image the release made that still exists in the catalog (not deleted), in every
   * account: a multi-account release's images carry its children's ids, `ID/<account>`. A
   * release id names an image line and a day, so a rebuild released the same day is a second
   * run of it: only the newest run that left images counts (the one people got last).
   */
  async imagesOf(releaseId: string): Promise<CatalogImage[]> {
    const result = await this.pool.query<CatalogRow>(
      `SELECT * FROM catalog_images c
        WHERE (c.release_id = $1 OR starts_with(c.release_id, $1 || '/')) AND c.state <> 'deleted'
          AND c.release_token = (SELECT d.release_token FROM catalog_images d
                                  WHERE d.release_id = c.release_id AND d.state <> 'deleted'
                                  ORDER BY d.created_at DESC, d.id DESC LIMIT 1)
        ORDER BY account, region, id`,
      [releaseId],
    );
    return result.rows.map(toImage);
  }

  /** Images of the account deprecated in favour of one of these (what the release replaced), not revoked themselves. */
  async replacedBy(q: { cloud: string; account: string; imageIds: string[] }): Promise<CatalogImage[]> {
    const result = await this.pool.query<CatalogRow>(
      `SELECT * FROM catalog_images
        WHERE cloud = $1 AND account = $2 AND state = 'deprecated' AND revoked_at IS NULL
          AND replacement_image_id = ANY($3::text[])
        ORDER BY region, id`,
      [q.cloud, q.account, q.imageIds],
    );
    return result.rows.map(toImage);
  }

  /**
   * A revoked image: deprecated (its first deprecation time kept), private, pointing at the
   * image people should use instead, with who revoked it and why. A repeat keeps the first record.
   */
  async markRevoked(
    q: ImageKey & { by: string; reason?: string; replacement?: { imageId: string; imageName: string } },
  ): Promise<void> {
    await this.pool.query(
      `UPDATE catalog_images
          SET state = 'deprecated', visibility = 'private', deprecated_at = COALESCE(deprecated_at, now()),
              replacement_image_id = COALESCE($5, replacement_image_id),
              replacement_image_name = COALESCE($6, replacement_image_name),
              revoked_at = COALESCE(revoked_at, now()), revoked_by = COALESCE(revoked_by, $7),
              revoke_reason = COALESCE(revoke_reason, $8)
        WHERE cloud = $1 AND account = $2 AND region = $3 AND image_id = $4 AND state <> 'deleted'`,
      [
        q.cloud,
        q.account,
        q.region,
        q.imageId,
        q.replacement?.imageId ?? null,
        q.replacement?.imageName ?? null,
        q.by,
        q.reason ?? null,
      ],
    );
  }

  /** An image the revoked release had replaced: the line's current image again (no deprecation, no replacement, no deletion date). */
  async markRestored(q: ImageKey): Promise<void> {
    await this.pool.query(
      `UPDATE catalog_images
          SET state = 'active', deprecated_at = NULL, replacement_image_id = NULL, replacement_image_name = NULL,
              delete_after = NULL
        WHERE cloud = $1 AND account = $2 AND region = $3 AND image_id = $4 AND state = 'deprecated'`,
      [q.cloud, q.account, q.region, q.imageId],
    );
  }
}
