// `npm run stack`: the embedded default's servers for working by hand — a Temporal dev server
// with its Web UI and a PostgreSQL cluster, on free loopback ports, state in .data/stack.
// Prints the environment a worker and the CLI need; Ctrl-C (or SIGTERM) stops both cleanly.
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { mkdirSync } from 'node:fs';
import { ensureDatabase, startPostgresCluster } from './devstack/postgres-cluster.js';
import { startTemporalDevServer } from './devstack/temporal-dev-server.js';

const projectRoot = fileURLToPath(new URL('../..', import.meta.url));
const stateDir = resolve(process.env.IMAGECAST_STACK_DIR ?? join(projectRoot, '.data/stack'));
mkdirSync(stateDir, { recursive: true });

const [postgres, temporal] = await Promise.all([
  startPostgresCluster(join(stateDir, 'postgres')),
  startTemporalDevServer({ stateDir, persist: true, projectRoot }),
]);
const databaseUrl = await ensureDatabase(postgres.adminUrl, 'imagecast');
console.log(`export IMAGECAST_TEMPORAL_ADDRESS=${temporal.address}
export IMAGECAST_DATABASE_URL=${databaseUrl}
export IMAGECAST_UI_URL=${temporal.uiUrl}
# Web UI: ${temporal.uiUrl}   state: ${stateDir}   Ctrl-C stops both servers`);

await new Promise<void>((done) => {
  process.once('SIGINT', done);
  process.once('SIGTERM', done);
});
await Promise.all([temporal.stop(), postgres.stop()]);
