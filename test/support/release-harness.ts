/**
 * Everything a release test needs, all real: the Temporal dev server, a fresh PostgreSQL
 * database (migrated), a local build service with a published build, the `local` cloud in a
 * temp dir, and workers on task queues of the test's own.
 */
import { readdirSync, readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { DefaultLogger, Runtime, type Worker } from '@temporalio/worker';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import type pg from 'pg';
import { createPool } from '../../infra/db/pool.js';
import { migrate } from '../../infra/db/migrate.js';
import { ImageCatalog } from '../../activities/common/catalog/catalog.js';
import { createLocalCloud } from '../../activities/local/index.js';
import { publishBuild, startBuildServer } from '../../infra/devstack/build-service.js';
import { writeDemoDisk } from '../../infra/devstack/demo-disk.js';
import { createWorkers, type WorkerDeps } from '../../worker/create-workers.js';
import type { AccountDirectory } from '../../activities/accounts/account-directory.js';
import type { PayloadKeys } from '../../infra/codec/payload-keys.js';
import type { WorkerQueue } from '../../schemas/config.js';
import { ImagecastClient } from '../../client/sdk/index.js';
import { freshDatabaseUrl, tempDir, testTemporalAddress, uniqueQueuePrefix } from './stack.js';

export type BuildServer = Awaited<ReturnType<typeof startBuildServer>>;

export interface ReleaseHarness {
  client: ImagecastClient;
  queuePrefix: string;
  temporalAddress: string;
  databaseUrl: string;
  pool: pg.Pool;
  catalog: ImageCatalog;
  localDataDir: string;
  buildRoot: string;
  buildServer: BuildServer;
  diskPath: string;
  /** Publishes build `release` of the test image (optionally with a wrong checksum). */
  publish(release: string, options?: { corruptChecksum?: boolean; format?: 'vhdfixed' }): Promise<{ fileName: string }>;
  /** A valid local job for this harness's build service. */
  job(overrides?: Record<string, unknown>): Record<string, unknown>;
  /** Image metadata files in a region of the local cloud (account `test`). */
  imagesIn(region: string): Array<Record<string, unknown>>;
  /** Every file the local cloud holds, relative to its data dir. */
  allCloudFiles(): string[];
  stop(): Promise<void>;
}

let runtimeInstalled = false;

/** Workers log errors only: failure-path tests expect failed activities, and a run stays readable. */
function quietRuntime(): void {
  if (runtimeInstalled) return;
  Runtime.install({ logger: new DefaultLogger('ERROR') });
  runtimeInstalled = true;
}

export async function startReleaseHarness(
  label: string,
  options: {
    queues?: WorkerQueue[];
    diskMiB?: number;
    /** Clouds besides `local` (an EC2 provider pointed at moto). */
    providers?: WorkerDeps['providers'];
    accounts?: AccountDirectory;
    /** Where download_type "S3" sources are read (moto behind the EC2 shim). */
    awsEndpoint?: string;
    /** The test step's limits. */
    imageTests?: WorkerDeps['imageTests'];
    /** Publish this disk file (a bootable image) instead of a generated demo disk. */
    diskFile?: string;
    /** End-of-release notifications (an SMTP sink, a webhook receiver). */
    notifier?: WorkerDeps['notifier'];
    /** Encrypt payloads: the harness's workers and client use these keys. */
    payloadKeys?: PayloadKeys;
    /** A Temporal server of the test's own (one it restarts) instead of the run's shared one. */
    temporalAddress?: string;
    /** Stored image lists for image_lists jobs, on the harness's database. */
    imageLists?: (pool: pg.Pool) => WorkerDeps['imageLists'];
  } = {},
): Promise<ReleaseHarness> {
  quietRuntime();
  const temporalAddress = options.temporalAddress ?? (await testTemporalAddress());
  const databaseUrl = await freshDatabaseUrl(label);
  const pool = createPool(databaseUrl);
  await migrate(pool);
  const catalog = new ImageCatalog(pool);
  const localDataDir = tempDir(`${label}-cloud`);
  const buildRoot = tempDir(`${label}-builds`);
  const diskPath = options.diskFile ?? join(tempDir(`${label}-disk`), 'disk.raw');
  if (!options.diskFile) await writeDemoDisk(diskPath, options.diskMiB ?? 16);
  const buildServer = await startBuildServer({ root: buildRoot });
  const queuePrefix = uniqueQueuePrefix(label);

  // The dev server our test runner started (never a downloaded one), through the SDK's test harness.
  const env = await TestWorkflowEnvironment.createFromExistingServer({ address: temporalAddress });
  const workers: Worker[] = await createWorkers({
    connection: env.nativeConnection,
    namespace: 'default',
    queuePrefix,
    queues: options.queues ?? ['workflows', 'local'],
    deps: {
      catalog,
      accounts: options.accounts,
      awsEndpoint: options.awsEndpoint,
      notifier: options.notifier,
      imageTests: options.imageTests,
      imageLists: options.imageLists?.(pool),
      providers: { local: createLocalCloud({ dataDir: localDataDir }), ...options.providers },
    },
    shutdownGraceTime: '2s',
    payloadKeys: options.payloadKeys,
  });
  const running = Promise.all(workers.map((w) => w.run()));
  const client = await ImagecastClient.connect({ address: temporalAddress, queuePrefix, payloadKeys: options.payloadKeys });

  return {
    client,
    queuePrefix,
    temporalAddress,
    databaseUrl,
    pool,
    catalog,
    localDataDir,
    buildRoot,
    buildServer,
    diskPath,
    publish: (release, publishOptions = {}) =>
      publishBuild(buildRoot, {
        image: 'test-image',
        arch: 'x86_64',
        version: '1.0.0',
        release,
        disk: diskPath,
        compression: 'none',
        packages: [{ name: 'kernel-default', version: '6.4.0', release: '1.1', license: 'GPL-2.0-only' }],
        corruptChecksum: publishOptions.corruptChecksum,
        ...(publishOptions.format && { format: publishOptions.format }),
      }),
    job: (overrides = {}) => ({
      cloud: 'local',
      cloud_account: 'test',
      region: 'region-1',
      additional_regions: ['region-2', 'region-3', 'region-4'],
      cloud_image_name: `${label}-v{date}-b{release}`,
      image_description: `Imagecast test image (${label})`,
      download_url: buildServer.url,
      image: 'test-image',
      last_service: 'deprecate',
      utctime: 'now',
      share_with: 'all',
      ...overrides,
    }),
    imagesIn: (region) => {
      const dir = join(localDataDir, 'test', region, 'images');
      if (!existsSync(dir)) return [];
      return readdirSync(dir)
        .filter((f) => f.endsWith('.json'))
        .map((f) => JSON.parse(readFileSync(join(dir, f), 'utf8')) as Record<string, unknown>);
    },
    allCloudFiles: () => listFiles(localDataDir, ''),
    async stop() {
      for (const worker of workers) if (worker.getState() === 'RUNNING') worker.shutdown();
      await running.catch(() => undefined);
      await env.teardown();
      await client.close();
      await buildServer.stop();
      await pool.end();
    },
  };
}

function listFiles(root: string, relative: string): string[] {
  const dir = join(root, relative);
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = relative ? `${relative}/${entry.name}` : entry.name;
    return entry.isDirectory() ? listFiles(root, path) : [path];
  });
}
