import type { Command } from 'commander';
import { createPool } from '../../infra/db/pool.js';
import { migrate } from '../../infra/db/migrate.js';
import { AccountStore } from '../../activities/accounts/account-store.js';
import { keyRingMasterKeys, type MasterKeyProvider } from '../../secrets/envelope.js';
import { keyRingFromEnv } from '../../secrets/key-ring.js';
import type pg from 'pg';

export const STORE_ENVIRONMENT =
  'IMAGECAST_DATABASE_URL (PostgreSQL), IMAGECAST_MASTER_KEY (base64 of 32 bytes) or IMAGECAST_MASTER_KEYS_FILE ({"current": ID, "keys": {ID: base64}})';

export function addStoreOptions(command: Command): Command {
  return command.option('--database-url <url>', 'PostgreSQL (env IMAGECAST_DATABASE_URL)');
}

/** A usage problem the CLI reports with exit code 2 (bad flag, unreadable file, missing setting). */
export class UsageError extends Error {
  override name = 'UsageError';
}

/** The database, migrated, for the length of `run`. */
export async function withDatabase<T>(flags: { databaseUrl?: string }, run: (pool: pg.Pool) => Promise<T>): Promise<T> {
  const url = flags.databaseUrl ?? process.env.IMAGECAST_DATABASE_URL;
  if (!url) throw new UsageError('no database: set IMAGECAST_DATABASE_URL or pass --database-url');
  const pool = createPool(url);
  try {
    await migrate(pool);
    return await run(pool);
  } finally {
    await pool.end();
  }
}

/** Who runs the CLI, for the audit log. */
export function cliActor(): string {
  return `cli:${process.env.USER ?? process.env.LOGNAME ?? 'unknown'}`;
}

/** The database and the master keys the account commands need. */
export async function withStore<T>(
  flags: { databaseUrl?: string },
  run: (store: AccountStore, pool: pg.Pool) => Promise<T>,
): Promise<T> {
  const master = masterKeysFromEnv();
  return withDatabase(flags, (pool) => run(new AccountStore(pool, master, cliActor()), pool));
}

/** The master keys from IMAGECAST_MASTER_KEY or IMAGECAST_MASTER_KEYS_FILE; a usage error (exit 2) when unset or unreadable. */
export function masterKeysFromEnv(): MasterKeyProvider {
  let ring;
  try {
    ring = keyRingFromEnv(process.env, 'IMAGECAST_MASTER');
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  if (!ring) {
    throw new UsageError(
      'no master key: set IMAGECAST_MASTER_KEY or IMAGECAST_MASTER_KEYS_FILE (make one with `imagecast keys generate`)',
    );
  }
  return keyRingMasterKeys(ring);
}
