import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type pg from 'pg';

/** Arbitrary constant: the advisory lock that serialises migrations across workers. */
const MIGRATION_LOCK = 7_246_153;

/**
 * The project's `infra/migrations`. The .sql files are not copied to dist/, so the runner
 * finds the project root (package.json) above itself, from the source tree or from dist.
 */
export function migrationsDir(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json'))) {
    const parent = dirname(dir);
    if (parent === dir)
      throw new Error('cannot find the project root (package.json) above the migration runner');
    dir = parent;
  }
  return join(dir, 'infra', 'migrations');
}

/**
 * Applies every not-yet-applied migration in name order, each in its own transaction with
 * its row in `schema_migrations`; returns the names applied (none when up to date).
 * Several workers may start at once: one migrates, the others wait on the lock and find
 * nothing left to do.
 */
export async function migrate(pool: pg.Pool, dir = migrationsDir()): Promise<string[]> {
  const files = readdirSync(dir)
    .filter((f) => f.endsWith('.sql'))
    .sort();
  const client = await pool.connect();
  let broken: Error | undefined;
  try {
    // A session lock, not a transaction one: it has to span one transaction per migration.
    await client.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK]);
    try {
      await client.query(
        'CREATE TABLE IF NOT EXISTS schema_migrations (name text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())',
      );
      const done = new Set(
        (await client.query<{ name: string }>('SELECT name FROM schema_migrations')).rows.map((r) => r.name),
      );
      const applied: string[] = [];
      for (const file of files.filter((f) => !done.has(f))) {
        await applyMigration(client, file, readFileSync(join(dir, file), 'utf8'));
        applied.push(file);
      }
      return applied;
    } finally {
      await client.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK]);
    }
  } catch (error) {
    broken = error as Error;
    throw error;
  } finally {
    // A connection that failed mid-migration is dropped, not pooled: the server then
    // releases whatever it still held (the lock, an open transaction).
    client.release(broken);
  }
}

async function applyMigration(client: pg.PoolClient, name: string, sql: string): Promise<void> {
  await client.query('BEGIN');
  try {
    await client.query(sql);
    await client.query('INSERT INTO schema_migrations (name) VALUES ($1)', [name]);
    await client.query('COMMIT');
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw new Error(`migration ${name} failed: ${(error as Error).message}`, { cause: error });
  }
}
