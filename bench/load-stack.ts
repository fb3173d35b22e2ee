// The stack the load bench runs on, once per Temporal server kind: a throw-away PostgreSQL,
// the Temporal dev server or the multi-service cluster (on that PostgreSQL), a build service,
// and real worker processes (`node dist/worker/main.js --queues ...`) the bench can SIGKILL.
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { startPostgresCluster, ensureDatabase } from '../infra/devstack/postgres-cluster.js';
import { startTemporalDevServer } from '../infra/devstack/temporal-dev-server.js';
import { startTemporalCluster } from '../infra/devstack/temporal-cluster.js';
import { startBuildServer } from '../infra/devstack/build-service.js';
import { startManagedProcess, type ManagedProcess } from '../infra/devstack/child-process.js';
import { freePort } from '../infra/devstack/free-port.js';
import { ImagecastClient } from '../client/sdk/index.js';
import { queuePollers } from '../client/sdk/release-health.js';
import { pidsWithArgs, treeCpuSeconds } from './process-cpu.js';
import { projectRoot } from './release-stack.js';

export type ServerKind = 'dev' | 'cluster';

export interface LoadWorker {
  queues: string;
  proc: ManagedProcess;
  metricsUrl: string;
}

export interface LoadStack {
  kind: ServerKind;
  client: ImagecastClient;
  /** The imagecast database (catalog). */
  db: pg.Pool;
  builds: string;
  buildServerUrl: string;
  /** The local cloud's data dir, shared by every worker. */
  cloudDir: string;
  workers: LoadWorker[];
  startWorker(queues: string): Promise<LoadWorker>;
  /** SIGKILLs the worker and starts another on the same queues in its place. */
  killAndRestart(worker: LoadWorker): Promise<LoadWorker>;
  stopWorkers(): Promise<void>;
  /** Until the worker polls every task queue it serves (its pid in the pollers' identities). */
  waitUntilPolling(worker: LoadWorker): Promise<void>;
  /** CPU seconds so far: Temporal server processes, PostgreSQL (postmaster and backends), workers. */
  cpu(): { server: number; postgres: number; workers: number };
  stop(): Promise<void>;
}

export async function startLoadStack(kind: ServerKind, options: { uploadSlots: number }): Promise<LoadStack> {
  const work = mkdtempSync(join(tmpdir(), `imagecast-load-${kind}-`));
  // Its own directory: the cluster runs as the postgres user, which cannot enter `work`.
  const pgDir = mkdtempSync(join(tmpdir(), 'imagecast-load-pg-'));
  const postgres = await startPostgresCluster(pgDir);
  const stops: Array<() => Promise<void>> = [postgres.stop];
  try {
    const stateDir = join(work, 'temporal');
    mkdirSync(stateDir, { recursive: true });
    const server =
      kind === 'dev'
        ? await startTemporalDevServer({ stateDir, headless: true, projectRoot })
        : await startTemporalCluster({ stateDir, postgres });
    stops.unshift(server.stop);
    const serverPids =
      kind === 'dev'
        ? pidsWithArgs('start-dev', `--port ${server.address.split(':')[1]}`)
        : pidsWithArgs('--config-file', stateDir);
    const postgresPids = pidsWithArgs('-D', join(pgDir, 'data'));
    if (serverPids.length === 0 || postgresPids.length === 0)
      throw new Error(`cannot find the ${kind} server or PostgreSQL processes`);

    const databaseUrl = await ensureDatabase(postgres.adminUrl, 'imagecast');
    const db = new pg.Pool({ connectionString: databaseUrl, max: 2 });
    stops.unshift(() => db.end());
    const builds = join(work, 'builds');
    const buildServer = await startBuildServer({ root: builds });
    stops.unshift(buildServer.stop);
    const client = await ImagecastClient.connect({ address: server.address });
    stops.unshift(() => client.close());
    const cloudDir = join(work, 'cloud');
    const logs = join(work, 'workers');
    mkdirSync(logs, { recursive: true });

    let started = 0;
    const workers: LoadWorker[] = [];
    const startWorker = async (queues: string): Promise<LoadWorker> => {
      const metricsPort = await freePort();
      const proc = startManagedProcess(
        process.execPath,
        [
          join(projectRoot, 'dist/worker/main.js'),
          '--queues',
          queues,
          '--address',
          server.address,
          '--metrics',
          `127.0.0.1:${metricsPort}`,
        ],
        join(logs, `worker-${++started}-${queues.replace(/,/g, '+')}.log`),
        {
          env: {
            ...process.env,
            IMAGECAST_DATABASE_URL: databaseUrl,
            IMAGECAST_LOCAL_DATA_DIR: cloudDir,
            IMAGECAST_WORKFLOW_BUNDLE: join(projectRoot, 'dist/workflow-bundle.js'),
            // Tiny images: an upload is milliseconds, so the default 2 slots would measure slots, not Temporal.
            IMAGECAST_UPLOAD_SLOTS: String(options.uploadSlots),
          },
        },
      );
      const worker = { queues, proc, metricsUrl: `http://127.0.0.1:${metricsPort}/metrics` };
      workers.push(worker);
      return worker;
    };
    const stopWorkers = async () => {
      await Promise.all(workers.splice(0).map((w) => w.proc.stop('SIGTERM', 20_000)));
    };
    stops.unshift(stopWorkers);

    return {
      kind,
      client,
      db,
      builds,
      buildServerUrl: buildServer.url,
      cloudDir,
      workers,
      startWorker,
      async killAndRestart(worker) {
        worker.proc.child.kill('SIGKILL');
        await worker.proc.exited;
        workers.splice(workers.indexOf(worker), 1);
        return startWorker(worker.queues);
      },
      stopWorkers,
      async waitUntilPolling(worker) {
        // The SDK's default identity is <pid>@<host>: a stale poller of a stopped worker does not count.
        const identity = `${worker.proc.child.pid}@`;
        const deadline = Date.now() + 300_000;
        for (const [queue, type] of taskQueuesOf(worker.queues)) {
          for (;;) {
            const pollers = await queuePollers(client.temporal, queue, type).catch(() => []);
            if (pollers.some((p) => p.startsWith(identity))) break;
            if (Date.now() > deadline)
              throw new Error(`worker ${identity} does not poll ${queue} after 300 s; see ${logs}`);
            await new Promise((r) => setTimeout(r, 500));
          }
        }
      },
      cpu: () => ({
        server: treeCpuSeconds(serverPids),
        postgres: treeCpuSeconds(postgresPids),
        workers: treeCpuSeconds(workers.map((w) => w.proc.child.pid!).filter(Boolean)),
      }),
      async stop() {
        for (const stop of stops)
          await stop().catch((error: Error) => console.error(`stopping: ${error.message}`));
        rmSync(work, { recursive: true, force: true });
        rmSync(pgDir, { recursive: true, force: true });
      },
    };
  } catch (error) {
    for (const stop of stops) await stop().catch(() => undefined);
    rmSync(work, { recursive: true, force: true });
    rmSync(pgDir, { recursive: true, force: true });
    throw error;
  }
}

function taskQueuesOf(queues: string): Array<[string, 'workflow' | 'activity']> {
  const served: Array<[string, 'workflow' | 'activity']> = [];
  for (const q of queues.split(',')) {
    if (q === 'workflows') served.push(['imagecast-workflows', 'workflow']);
    if (q === 'local' || q === 'local-calls') served.push(['imagecast-local', 'activity']);
    if (q === 'local' || q === 'local-upload') served.push(['imagecast-local-upload', 'activity']);
  }
  return served;
}
