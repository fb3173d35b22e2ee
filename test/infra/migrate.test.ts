import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';
import type pg from 'pg';
import { migrate, migrationsDir } from '../../infra/db/migrate.js';
import { createPool } from '../../infra/db/pool.js';
import { freshDatabaseUrl, tempDir } from '../support/stack.js';

const migrateMain = fileURLToPath(new URL('../../infra/db/migrate-main.js', import.meta.url));
const pools: pg.Pool[] = [];
after(() => Promise.all(pools.map((p) => p.end())));

async function freshPool(label: string): Promise<pg.Pool> {
  const pool = createPool(await freshDatabaseUrl(label));
  pools.push(pool);
  return pool;
}

async function tableExists(pool: pg.Pool, name: string): Promise<boolean> {
  const { rows } = await pool.query<{ found: string | null }>('SELECT to_regclass($1) AS found', [name]);
  return rows[0]?.found != null;
}

async function recorded(pool: pg.Pool): Promise<string[]> {
  const { rows } = await pool.query<{ name: string }>('SELECT name FROM schema_migrations ORDER BY name');
  return rows.map((r) => r.name);
}

const PROJECT_MIGRATIONS = ['0001_catalog.sql', '0002_accounts_tokens_audit.sql', '0003_image_test_runs.sql', '0004_catalog_delete_after.sql', '0005_trust_policies.sql', '0006_revocations.sql', '0007_imagelists.sql', '0008_imagelist_release_entries.sql', '0009_imagelist_published_copy.sql', '0010_imagelist_renewal_state.sql'];

describe('database migrations', () => {
  it('finds the project migrations from the compiled runner too', () => {
    assert.ok(existsSync(join(migrationsDir(), '0001_catalog.sql')));
  });

  it('applies every migration once and records it; a second run applies nothing', async () => {
    const pool = await freshPool('migrate_once');
    assert.deepEqual(await migrate(pool), PROJECT_MIGRATIONS);
    assert.ok(await tableExists(pool, 'catalog_images'));
    assert.ok(await tableExists(pool, 'accounts'));
    assert.deepEqual(await migrate(pool), []);
    assert.deepEqual(await recorded(pool), PROJECT_MIGRATIONS);
    const { rows } = await pool.query<{ applied_at: Date }>('SELECT applied_at FROM schema_migrations');
    assert.ok(rows[0]!.applied_at instanceof Date);
  });

  it('lets workers that start together migrate at once: one applies, the others find it done', async () => {
    const pool = await freshPool('migrate_race');
    const results = await Promise.all([migrate(pool), migrate(pool), migrate(pool)]);
    assert.deepEqual(results.flat(), PROJECT_MIGRATIONS);
    assert.deepEqual(await recorded(pool), PROJECT_MIGRATIONS);
  });

  it('applies in name order, and a failing migration leaves nothing of itself and blocks the later ones', async () => {
    const pool = await freshPool('migrate_fail');
    const dir = tempDir('migrations');
    await writeFile(join(dir, '0002_second.sql'), 'CREATE TABLE second (id int); SELECT 1/0;');
    await writeFile(join(dir, '0001_first.sql'), 'CREATE TABLE first (id int);');
    await writeFile(join(dir, '0003_third.sql'), 'CREATE TABLE third (id int);');
    await writeFile(join(dir, 'README.md'), 'not a migration');

    await assert.rejects(migrate(pool, dir), /migration 0002_second\.sql failed: division by zero/);
    assert.deepEqual(await recorded(pool), ['0001_first.sql']);
    assert.equal(await tableExists(pool, 'second'), false);
    assert.equal(await tableExists(pool, 'third'), false);

    // Fixed, it goes on from where it stopped (the lock was released with the failure).
    await writeFile(join(dir, '0002_second.sql'), 'CREATE TABLE second (id int);');
    assert.deepEqual(await migrate(pool, dir), ['0002_second.sql', '0003_third.sql']);
    assert.deepEqual(await recorded(pool), ['0001_first.sql', '0002_second.sql', '0003_third.sql']);
  });

  it('runs alone as `node dist/infra/db/migrate-main.js` (the Helm chart\'s migration Job): applies, then is quiet', async () => {
    const url = await freshDatabaseUrl('migrate_main');
    const run = (env: NodeJS.ProcessEnv) =>
      promisify(execFile)(process.execPath, [migrateMain], { env: { PATH: process.env.PATH, ...env } });
    const first = await run({ IMAGECAST_DATABASE_URL: url });
    assert.equal(first.stdout, PROJECT_MIGRATIONS.map((name) => `applied ${name}\n`).join(''));
    assert.equal((await run({ IMAGECAST_DATABASE_URL: url })).stdout, '');
    const pool = createPool(url);
    pools.push(pool);
    assert.deepEqual(await recorded(pool), PROJECT_MIGRATIONS);

    await assert.rejects(run({}), (error: { code: number; stderr: string }) => {
      assert.equal(error.code, 2);
      assert.match(error.stderr, /IMAGECAST_DATABASE_URL: required/);
      return true;
    });
    const secret = 'n0t-the-password';
    const unreachable = `postgresql://imagecast:${secret}@127.0.0.1:1/imagecast`;
    await assert.rejects(run({ IMAGECAST_DATABASE_URL: unreachable }), (error: { code: number; stderr: string }) => {
      assert.equal(error.code, 1);
      assert.match(error.stderr, /^migrate: /);
      assert.ok(!error.stderr.includes(secret), error.stderr);
      return true;
    });
  });
});
