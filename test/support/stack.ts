/**
 * The real components tests run against. `npm test` (infra/run-tests.ts) starts one
 * Temporal dev server and one PostgreSQL cluster for the whole run and passes them in the
 * environment; a test file run on its own starts its own, once, and they die with it.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { ensureDatabase, startPostgresCluster } from '../../infra/devstack/postgres-cluster.js';
import { startTemporalDevServer } from '../../infra/devstack/temporal-dev-server.js';
import { startTemporalCluster } from '../../infra/devstack/temporal-cluster.js';

export const ENV_TEMPORAL_ADDRESS = 'IMAGECAST_TEST_TEMPORAL_ADDRESS';
export const ENV_POSTGRES_ADMIN_URL = 'IMAGECAST_TEST_POSTGRES_ADMIN_URL';
/** `cluster`: tests run against a real multi-service Temporal server on PostgreSQL (opt-in; infra/install-cluster.sh). */
export const ENV_TEST_TEMPORAL = 'IMAGECAST_TEST_TEMPORAL';

export function testsUseTemporalCluster(): boolean {
  return process.env[ENV_TEST_TEMPORAL] === 'cluster';
}

let temporalAddress: Promise<string> | undefined;
let postgresAdminUrl: Promise<string> | undefined;

export function testTemporalAddress(): Promise<string> {
  const fromEnv = process.env[ENV_TEMPORAL_ADDRESS];
  if (fromEnv) return Promise.resolve(fromEnv);
  temporalAddress ??= (async () => {
    if (testsUseTemporalCluster()) {
      const cluster = await startTemporalCluster({
        stateDir: tempDir('temporal-cluster'),
        postgres: { adminUrl: await testPostgresAdminUrl() },
        keepsParentAlive: false,
      });
      return cluster.address;
    }
    const server = await startTemporalDevServer({
      stateDir: tempDir('temporal'),
      headless: true,
      keepsParentAlive: false,
    });
    return server.address;
  })();
  return temporalAddress;
}

export function testPostgresAdminUrl(): Promise<string> {
  const fromEnv = process.env[ENV_POSTGRES_ADMIN_URL];
  if (fromEnv) return Promise.resolve(fromEnv);
  postgresAdminUrl ??= (async () => {
    const cluster = await startPostgresCluster(tempDir('postgres'), false);
    return cluster.adminUrl;
  })();
  return postgresAdminUrl;
}

/** A fresh, empty database for one test file, so files can run in parallel. */
export async function freshDatabaseUrl(label: string): Promise<string> {
  const name = `t_${label.replace(/[^a-z0-9]/gi, '_').toLowerCase()}_${randomBytes(4).toString('hex')}`;
  return ensureDatabase(await testPostgresAdminUrl(), name);
}

const tempDirs: string[] = [];
process.once('exit', () => {
  for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
});

/** A temporary directory removed when the test process exits. */
export function tempDir(label: string): string {
  const dir = mkdtempSync(join(tmpdir(), `imagecast-${label}-`));
  tempDirs.push(dir);
  return dir;
}

/** Task-queue prefix unique to one test, so workers of different tests never share work. */
export function uniqueQueuePrefix(label: string): string {
  return `t-${label}-${randomBytes(3).toString('hex')}-`;
}
