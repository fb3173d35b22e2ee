// Lists the renewal could not publish again, kept in PostgreSQL (migration 0010) so that people
// are told once per list and reason, not at every run of the schedule (every 6 hours by
// default), and so `imagecast imagelist list` can say why a list is not being renewed. A row
// goes when the list is published again (ImageListStore.recordPublished) or deleted.
import type pg from 'pg';

/** Why a list is not being renewed, since when, and when people were told. */
export interface RenewalFailure {
  reason: string;
  failingSince: Date;
  lastFailedAt: Date;
  /** Unset until people were told of this reason. */
  notifiedAt?: Date;
}

interface FailureRow {
  list_identifier: string;
  reason: string;
  failing_since: Date;
  last_failed_at: Date;
  notified_reason: string | null;
  notified_at: Date | null;
}

export class RenewalFailures {
  constructor(private readonly pool: pg.Pool) {}

  /**
   * Records this run's failures and returns the identifiers people have not been told about
   * with this reason yet: lists failing for the first time, or for a new reason.
   */
  async recordAndFindUntold(failed: ReadonlyArray<{ identifier: string; reason: string }>, at: Date) {
    const untold: string[] = [];
    for (const { identifier, reason } of failed) {
      // A list deleted since the run began has no row to keep (the foreign key refuses it).
      const { rows } = await this.pool.query<{ told: boolean }>(
        `INSERT INTO imagelist_renewal_failures (list_identifier, reason, failing_since, last_failed_at)
         SELECT $1::uuid, $2::text, $3::timestamptz, $3::timestamptz
         WHERE EXISTS (SELECT 1 FROM imagelists WHERE identifier = $1::uuid)
         ON CONFLICT (list_identifier) DO UPDATE SET
           failing_since = CASE WHEN imagelist_renewal_failures.reason = $2
                                THEN imagelist_renewal_failures.failing_since ELSE $3 END,
           reason = $2, last_failed_at = $3
         RETURNING notified_reason IS NOT DISTINCT FROM $2 AS told`,
        [identifier, reason, at],
      );
      if (rows[0] && !rows[0].told) untold.push(identifier);
    }
    return untold;
  }

  /**
   * Runs `tell` holding a PostgreSQL advisory lock that every worker and CLI shares, so two
   * renewal runs at once cannot both find a list untold and both tell people. Held on its own
   * connection for the whole telling (a webhook's retries included); released however it ends.
   */
  async oneTellerAtATime<T>(tell: () => Promise<T>): Promise<T> {
    const client = await this.pool.connect();
    try {
      await client.query(`SELECT pg_advisory_lock(hashtext('imagecast:imagelist-not-renewed'))`);
      try {
        return await tell();
      } finally {
        await client.query(`SELECT pg_advisory_unlock(hashtext('imagecast:imagelist-not-renewed'))`);
      }
    } finally {
      client.release();
    }
  }

  /** People were told about these lists, with the reason each has now. */
  async markTold(identifiers: readonly string[], at: Date): Promise<void> {
    if (identifiers.length === 0) return;
    await this.pool.query(
      `UPDATE imagelist_renewal_failures SET notified_reason = reason, notified_at = $2
        WHERE list_identifier = ANY($1::uuid[])`,
      [identifiers, at],
    );
  }

  /** Every list renewal is failing on, by identifier. */
  async all(): Promise<Map<string, RenewalFailure>> {
    const { rows } = await this.pool.query<FailureRow>('SELECT * FROM imagelist_renewal_failures');
    return new Map(
      rows.map((row) => [
        row.list_identifier,
        {
          reason: row.reason,
          failingSince: row.failing_since,
          lastFailedAt: row.last_failed_at,
          ...(row.notified_at && row.notified_reason === row.reason && { notifiedAt: row.notified_at }),
        },
      ]),
    );
  }
}

/** The list was published again: renewal works for it, whatever failed before. */
export async function forgetRenewalFailure(pool: pg.Pool, identifier: string): Promise<void> {
  await pool.query('DELETE FROM imagelist_renewal_failures WHERE list_identifier = $1', [identifier]);
}
