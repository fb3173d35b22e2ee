// The stack release benches run on: a throw-away PostgreSQL (migrated), a Temporal dev server,
// a build service, in-process workers for the workflows and local queues, and a client.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { NativeConnection } from '@temporalio/worker';
import { startPostgresCluster, ensureDatabase } from '../infra/devstack/postgres-cluster.js';
import { startTemporalDevServer } from '../infra/devstack/temporal-dev-server.js';
import { startBuildServer } from '../infra/devstack/build-service.js';
import { createPool } from '../infra/db/pool.js';
import { migrate } from '../infra/db/migrate.js';
import { ImageCatalog } from '../activities/common/catalog/catalog.js';
import { createWorkers, type WorkerDeps } from '../worker/create-workers.js';
import { ImagecastClient } from '../client/sdk/index.js';

export const projectRoot = fileURLToPath(new URL('../..', import.meta.url));

export interface BenchReleaseStack {
  catalog: ImageCatalog;
  /** Where builds are published; the build service serves it. */
  builds: string;
  buildServerUrl: string;
  /** Body bytes the build service has sent so far. */
  bytesServed(): number;
  client: ImagecastClient;
  /** Stops everything and removes `work` and the database. */
  stop(): Promise<void>;
}

export async function startBenchReleaseStack(options: {
  /** The bench's scratch directory (Temporal state, builds); removed on stop. */
  work: string;
  providers: WorkerDeps['providers'];
  imageTests?: WorkerDeps['imageTests'];
}): Promise<BenchReleaseStack> {
  const { work } = options;
  // Its own directory: the cluster runs as the postgres user, which cannot enter `work`.
  const pgDir = mkdtempSync(join(tmpdir(), 'imagecast-bench-pg-'));
  const [postgres, server] = await Promise.all([
    startPostgresCluster(pgDir),
    startTemporalDevServer({ stateDir: work, headless: true, projectRoot }),
  ]);
  const pool = createPool(await ensureDatabase(postgres.adminUrl, 'bench'));
  await migrate(pool);
  const catalog = new ImageCatalog(pool);
  const builds = join(work, 'builds');
  const buildServer = await startBuildServer({ root: builds });
  const connection = await NativeConnection.connect({ address: server.address });
  const workers = await createWorkers({
    connection,
    namespace: 'default',
    queuePrefix: 'imagecast-',
    queues: ['workflows', 'local'],
    deps: { catalog, providers: options.providers, imageTests: options.imageTests },
  });
  const running = Promise.all(workers.map((w) => w.run()));
  const client = await ImagecastClient.connect({ address: server.address });
  return {
    catalog,
    builds,
    buildServerUrl: buildServer.url,
    bytesServed: buildServer.bytesServed,
    client,
    async stop() {
      for (const w of workers) if (w.getState() === 'RUNNING') w.shutdown();
      await running;
      await client.close();
      await connection.close();
      await buildServer.stop();
      await pool.end();
      await Promise.all([server.stop(), postgres.stop()]);
      rmSync(work, { recursive: true, force: true });
      rmSync(pgDir, { recursive: true, force: true });
    },
  };
}
