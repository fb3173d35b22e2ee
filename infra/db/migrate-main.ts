#!/usr/bin/env node
// Applies the catalog's database migrations and exits. The Helm chart runs it as a Job before
// new workers start (pre-install/pre-upgrade hook), so a schema change fails the rollout instead
// of crash-looping every worker. Workers still migrate at start: under the advisory lock they
// find nothing left to do.
import { Command } from 'commander';
import { createPool } from './pool.js';
import { migrate } from './migrate.js';

new Command('imagecast-migrate')
  .description('Apply the pending database migrations (infra/migrations/) and exit')
  .addHelpText(
    'after',
    `
Environment: IMAGECAST_DATABASE_URL (required).
Prints each migration it applies; nothing when the database is up to date. Safe to run while
workers start: migrations are serialised by an advisory lock.

Example:
  IMAGECAST_DATABASE_URL=postgresql://imagecast@db/imagecast node dist/infra/db/migrate-main.js`,
  )
  .parse();

const databaseUrl = process.env.IMAGECAST_DATABASE_URL;
if (!databaseUrl) {
  console.error('migrate: IMAGECAST_DATABASE_URL: required');
  process.exit(2);
}
const pool = createPool(databaseUrl);
try {
  for (const name of await migrate(pool)) console.log(`applied ${name}`);
} catch (error) {
  // pg's errors name the failing migration and the server's message, never the URL (its password).
  console.error(`migrate: ${(error as Error).message}`);
  process.exitCode = 1;
} finally {
  await pool.end();
}
