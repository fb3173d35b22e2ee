// `npm test`: one Temporal dev server and one PostgreSQL cluster for the whole run, then
// every compiled test file under node's test runner, then both servers stopped.
import { readdirSync, statSync } from 'node:fs';
import { spawn } from 'node:child_process';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { startPostgresCluster } from './devstack/postgres-cluster.js';
import { startTemporalDevServer } from './devstack/temporal-dev-server.js';
import { startTemporalCluster } from './devstack/temporal-cluster.js';
import { ENV_POSTGRES_ADMIN_URL, ENV_TEMPORAL_ADDRESS, testsUseTemporalCluster } from '../test/support/stack.js';

const distRoot = fileURLToPath(new URL('..', import.meta.url));
const only = process.argv.slice(2);

function testFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return testFiles(path);
    return name.endsWith('.test.js') ? [path] : [];
  });
}

const files = testFiles(join(distRoot, 'test'))
  .filter((f) => only.length === 0 || only.some((o) => f.includes(o)))
  .sort();
const stateDir = await mkdtemp(join(tmpdir(), 'imagecast-tests-'));
// Its own temp dir: PostgreSQL may run as another user, who cannot enter ours.
const postgresDir = await mkdtemp(join(tmpdir(), 'imagecast-tests-pg-'));
// IMAGECAST_TEST_TEMPORAL=cluster (opt-in): a real multi-service Temporal server on the same PostgreSQL.
const [postgres, temporal] = testsUseTemporalCluster()
  ? await startPostgresCluster(postgresDir).then(async (pg) => [pg, await startTemporalCluster({ stateDir, postgres: pg })] as const)
  : await Promise.all([startPostgresCluster(postgresDir), startTemporalDevServer({ stateDir, headless: true })]);
if (testsUseTemporalCluster()) console.error(`tests run against a Temporal cluster at ${temporal.address}`);

let exitCode = 1;
try {
  exitCode = await new Promise<number>((resolve) => {
    const child = spawn(process.execPath, ['--test', '--test-concurrency=2', '--test-timeout=900000', ...files], {
      stdio: 'inherit',
      env: { ...process.env, [ENV_TEMPORAL_ADDRESS]: temporal.address, [ENV_POSTGRES_ADMIN_URL]: postgres.adminUrl },
    });
    child.on('exit', (code, signal) => resolve(code ?? (signal ? 1 : 0)));
  });
} finally {
  await temporal.stop();
  await postgres.stop();
  await rm(postgresDir, { recursive: true, force: true });
  if (exitCode === 0) await rm(stateDir, { recursive: true, force: true });
  else console.error(`test servers' logs kept in ${relative(process.cwd(), stateDir) || stateDir}`);
}
process.exit(exitCode);
