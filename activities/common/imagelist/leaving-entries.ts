// The list entries of a release whose images leave the lists (its image deprecated by a later
// release, or the release revoked), taken out of the stored image lists in two steps around
// the publication: first the hv:image leaves the list, and only once the list is published
// without it is the release's entry row forgotten. An activity that failed to publish (an
// sftp host down) therefore finds the entry again on its retry and publishes the list then,
// instead of finding nothing left to do.
//
// What it cannot do: put back the entry of the release a revoked one had replaced. Entries
// are one per image line, cloud and account (migration 0008), and a later release of the line
// overwrites that entry in place (same dc:identifier, new file and version), so the store no
// longer holds the earlier release's file, size and sha512 to put back.
import type pg from 'pg';
import type { ListPublication } from '../../../schemas/imagelist-release.js';
import { AuditLog } from '../../accounts/audit-log.js';

/** One run of a release in one account (catalog_images.release_token). */
export interface ReleaseRun {
  cloud: string;
  account: string;
  releaseToken: string;
}

/** An entry a release wrote into a list, still describing its image. */
export interface LeavingEntry extends ReleaseRun {
  listIdentifier: string;
  imageLine: string;
  /** The entry's dc:identifier in imagelist_images. */
  imageIdentifier: string;
}

export class LeavingReleaseEntries {
  private readonly audit: AuditLog;

  constructor(
    private readonly pool: pg.Pool,
    private readonly actor = 'worker',
  ) {
    this.audit = new AuditLog(pool);
  }

  /** The entries that still describe an image of these runs (a later release of the line owns its entry, so it is not one). */
  async entriesOf(runs: ReleaseRun[]): Promise<LeavingEntry[]> {
    if (runs.length === 0) return [];
    const { rows } = await this.pool.query<{
      list_identifier: string;
      cloud: string;
      account: string;
      image_line: string;
      image_identifier: string;
      release_token: string;
    }>(
      `SELECT e.list_identifier, e.cloud, e.account, e.image_line, e.image_identifier, e.release_token
         FROM imagelist_release_entries e
         JOIN unnest($1::text[], $2::text[], $3::text[]) AS r(cloud, account, release_token)
           ON e.cloud = r.cloud AND e.account = r.account AND e.release_token = r.release_token
        ORDER BY e.list_identifier, e.image_line`,
      [runs.map((r) => r.cloud), runs.map((r) => r.account), runs.map((r) => r.releaseToken)],
    );
    return rows.map((r) => ({
      listIdentifier: r.list_identifier,
      cloud: r.cloud,
      account: r.account,
      imageLine: r.image_line,
      imageIdentifier: r.image_identifier,
      releaseToken: r.release_token,
    }));
  }

  /**
   * Takes the entry's image out of its list, under the list's lock (the one release writes
   * take). False when a later release of the line has written the entry since: its image
   * stays. True also when the image had left already (a retry): the list still needs publishing.
   */
  async takeOut(entry: LeavingEntry, why: string): Promise<boolean> {
    const client = await this.pool.connect();
    let removed = false;
    try {
      await client.query('BEGIN');
      await client.query('SELECT 1 FROM imagelists WHERE identifier = $1 FOR UPDATE', [entry.listIdentifier]);
      const still = await client.query(
        `SELECT 1 FROM imagelist_release_entries
          WHERE list_identifier = $1 AND cloud = $2 AND account = $3 AND image_line = $4 AND release_token = $5`,
        [entry.listIdentifier, entry.cloud, entry.account, entry.imageLine, entry.releaseToken],
      );
      if (still.rowCount === 0) {
        await client.query('ROLLBACK');
        return false;
      }
      const deleted = await client.query(
        'DELETE FROM imagelist_images WHERE list_identifier = $1 AND identifier = $2',
        [entry.listIdentifier, entry.imageIdentifier],
      );
      removed = (deleted.rowCount ?? 0) > 0;
      if (removed)
        await client.query('UPDATE imagelists SET updated_at = now() WHERE identifier = $1', [
          entry.listIdentifier,
        ]);
      await client.query('COMMIT');
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw error;
    } finally {
      client.release();
    }
    if (removed)
      await this.audit.record(this.actor, 'imagelist.update', `imagelist:${entry.listIdentifier}`, 'ok', {
        change: `release entry ${entry.imageIdentifier} removed: ${why}`,
      });
    return true;
  }

  /** After the list was published without it: the entry row goes (unless a later release has taken it over). */
  async forget(entry: LeavingEntry): Promise<void> {
    await this.pool.query(
      `DELETE FROM imagelist_release_entries
        WHERE list_identifier = $1 AND cloud = $2 AND account = $3 AND image_line = $4 AND release_token = $5`,
      [entry.listIdentifier, entry.cloud, entry.account, entry.imageLine, entry.releaseToken],
    );
  }
}

/**
 * Takes these entries out of their lists and publishes each list that changed (`publish`),
 * forgetting the entries of a list only once it is published. `why` goes to the audit log.
 */
export async function republishWithout(
  store: LeavingReleaseEntries,
  entries: LeavingEntry[],
  why: string,
  publish: (listIdentifier: string) => Promise<ListPublication>,
): Promise<ListPublication[]> {
  const byList = new Map<string, LeavingEntry[]>();
  for (const entry of entries)
    byList.set(entry.listIdentifier, [...(byList.get(entry.listIdentifier) ?? []), entry]);
  const published: ListPublication[] = [];
  for (const [list, listed] of byList) {
    const takenOut: LeavingEntry[] = [];
    for (const entry of listed) if (await store.takeOut(entry, why)) takenOut.push(entry);
    if (takenOut.length === 0) continue;
    published.push(await publish(list));
    for (const entry of takenOut) await store.forget(entry);
  }
  return published;
}
