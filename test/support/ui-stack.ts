/**
 * A release stack for Web UI tests: its own Temporal dev server WITH the Web UI (the shared
 * test server is headless), a fresh PostgreSQL database, a build service with a published
 * build, the `local` cloud in a temp dir, and workers on the default queue prefix, so the
 * task queue a person types into the UI's "Start Workflow" form is `imagecast-workflows`.
 * It owns its dev server, so no other test's worker can pick up its work.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DefaultLogger, NativeConnection, Runtime, type Worker } from '@temporalio/worker';
import { createPool } from '../../infra/db/pool.js';
import { migrate } from '../../infra/db/migrate.js';
import { ImageCatalog } from '../../activities/common/catalog/catalog.js';
import { createLocalCloud } from '../../activities/local/index.js';
import { publishBuild, startBuildServer } from '../../infra/devstack/build-service.js';
import { writeDemoDisk } from '../../infra/devstack/demo-disk.js';
import { startTemporalDevServer } from '../../infra/devstack/temporal-dev-server.js';
import { createWorkers } from '../../worker/create-workers.js';
import { ImagecastClient } from '../../client/sdk/index.js';
import { DEFAULT_QUEUE_PREFIX, queueName, WORKFLOWS_QUEUE_SUFFIX } from '../../schemas/steps.js';
import { freshDatabaseUrl, tempDir } from './stack.js';

export interface UiStack {
  /** The Web UI's base URL, e.g. http://127.0.0.1:PORT. */
  uiUrl: string;
  /** What the UI form's "Task Queue" field takes. */
  workflowsQueue: string;
  client: ImagecastClient;
  /** A valid local job for this stack's build service (build `1` is published). */
  job(): Record<string, unknown>;
  /** Image metadata files in a region of the local cloud (account `test`). */
  imagesIn(region: string): Array<Record<string, unknown>>;
  stop(): Promise<void>;
}

export const UI_STACK_REGIONS = ['region-1', 'region-2', 'region-3'];

export async function startUiStack(label: string): Promise<UiStack> {
  // Workers log errors only, so the test's output stays readable.
  Runtime.install({ logger: new DefaultLogger('ERROR') });
  const temporal = await startTemporalDevServer({
    stateDir: tempDir(`${label}-temporal`),
    headless: false,
    keepsParentAlive: false,
  });
  const cleanups: Array<() => Promise<unknown>> = [() => temporal.stop()];
  const stop = async () => {
    for (const cleanup of cleanups.reverse()) await cleanup().catch(() => undefined);
  };
  try {
    if (!temporal.uiUrl) throw new Error('the Temporal dev server started without its Web UI');
    const pool = createPool(await freshDatabaseUrl(label));
    cleanups.push(() => pool.end());
    await migrate(pool);

    const buildRoot = tempDir(`${label}-builds`);
    const diskPath = join(tempDir(`${label}-disk`), 'disk.raw');
    await writeDemoDisk(diskPath, 8);
    const buildServer = await startBuildServer({ root: buildRoot });
    cleanups.push(() => buildServer.stop());
    await publishBuild(buildRoot, {
      image: 'test-image',
      arch: 'x86_64',
      version: '1.0.0',
      release: '1',
      disk: diskPath,
      compression: 'none',
      packages: [{ name: 'kernel-default', version: '6.4.0', release: '1.1', license: 'GPL-2.0-only' }],
    });

    const localDataDir = tempDir(`${label}-cloud`);
    const connection = await NativeConnection.connect({ address: temporal.address });
    cleanups.push(() => connection.close());
    const workers: Worker[] = await createWorkers({
      connection,
      namespace: temporal.namespace,
      queuePrefix: DEFAULT_QUEUE_PREFIX,
      queues: ['workflows', 'local'],
      deps: {
        catalog: new ImageCatalog(pool),
        providers: { local: createLocalCloud({ dataDir: localDataDir }) },
      },
      shutdownGraceTime: '2s',
    });
    const running = Promise.all(workers.map((w) => w.run()));
    cleanups.push(async () => {
      for (const worker of workers) if (worker.getState() === 'RUNNING') worker.shutdown();
      await running;
    });
    const client = await ImagecastClient.connect({ address: temporal.address });
    cleanups.push(() => client.close());

    const [firstRegion, ...additionalRegions] = UI_STACK_REGIONS;
    return {
      uiUrl: temporal.uiUrl,
      workflowsQueue: queueName(DEFAULT_QUEUE_PREFIX, WORKFLOWS_QUEUE_SUFFIX),
      client,
      job: () => ({
        cloud: 'local',
        cloud_account: 'test',
        region: firstRegion,
        additional_regions: additionalRegions,
        cloud_image_name: `${label}-v{date}-b{release}`,
        image_description: `Imagecast Web UI test image (${label})`,
        download_url: buildServer.url,
        image: 'test-image',
        last_service: 'publish',
        utctime: 'now',
        share_with: 'all',
      }),
      imagesIn: (region) => {
        const dir = join(localDataDir, 'test', region, 'images');
        if (!existsSync(dir)) return [];
        return readdirSync(dir)
          .filter((f) => f.endsWith('.json'))
          .map((f) => JSON.parse(readFileSync(join(dir, f), 'utf8')) as Record<string, unknown>);
      },
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}
