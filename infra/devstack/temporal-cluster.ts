/**
 * A real multi-service Temporal server (v1.32.2, built by infra/install-cluster.sh) on our
 * throw-away PostgreSQL: frontend, history, matching and worker each in its own process,
 * ≥ 32 history shards, persistence and SQL visibility in the databases `temporal` and
 * `temporal_visibility`. Opt-in only (`npm run stack -- --cluster`, IMAGECAST_TEST_TEMPORAL=cluster):
 * the dev server stays what `npm test` and .ci/run use.
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { homedir } from 'node:os';
import { createServer } from 'node:net';
import { join } from 'node:path';
import pg from 'pg';
import { Connection } from '@temporalio/client';
import proto from '@temporalio/proto';
import { freePort } from './free-port.js';
import { startManagedProcess, waitUntilReady, type ManagedProcess } from './child-process.js';
import { ensureDatabase, type PostgresCluster } from './postgres-cluster.js';
import { SEARCH_ATTRIBUTE_TYPES } from '../../schemas/search-attributes.js';

export const TEMPORAL_SERVER_VERSION = 'v1.32.2';
const SERVICES = ['history', 'matching', 'frontend', 'worker'] as const;
type Service = (typeof SERVICES)[number];
const HISTORY_SHARDS = 32;
const NAMESPACE = 'default';

export interface TemporalCluster {
  address: string;
  namespace: string;
  /** One log per service process. */
  logFiles: string[];
  stop(): Promise<void>;
}

export interface TemporalClusterOptions {
  /** Where the configs and the services' logs go. */
  stateDir: string;
  postgres: Pick<PostgresCluster, 'adminUrl'>;
  /** False when the servers should die with (not hold open) a test process. */
  keepsParentAlive?: boolean;
}

export function temporalServerDir(): string {
  const cache = process.env.IMAGECAST_TOOLS_CACHE ?? join(homedir(), '.cache/imagecast/tools');
  const dir = join(cache, `temporal-server-${TEMPORAL_SERVER_VERSION}`);
  if (!existsSync(join(dir, 'server')) || !existsSync(join(dir, 'sql')))
    throw new Error(`Temporal server not found in ${dir}: run "bash infra/install-cluster.sh" first`);
  return dir;
}

/** Creates the databases and schemas, starts the four services, registers `default` and our search attributes. */
export async function startTemporalCluster(options: TemporalClusterOptions): Promise<TemporalCluster> {
  const bin = temporalServerDir();
  mkdirSync(options.stateDir, { recursive: true });
  const { username: user, port: pgPort } = new URL(options.postgres.adminUrl);
  await setupSchema(bin, options.postgres, user, 'temporal', 'postgresql/v12/temporal');
  await setupSchema(bin, options.postgres, user, 'temporal_visibility', 'postgresql/v12/visibility');

  const ports = await allocatePorts();
  const dynamicConfig = join(options.stateDir, 'dynamicconfig.yaml');
  writeFileSync(dynamicConfig, DYNAMIC_CONFIG);
  const procs: ManagedProcess[] = [];
  const stop = async () => {
    await Promise.all(procs.map((p) => p.stop('SIGTERM')));
  };
  try {
    for (const service of SERVICES) {
      const configFile = join(options.stateDir, `config-${service}.yaml`);
      // JSON is YAML: the server's loader reads it as upstream's development-postgres12.yaml.
      writeFileSync(configFile, JSON.stringify(serverConfig(Number(pgPort), user, ports, service, dynamicConfig), null, 2));
      procs.push(
        startManagedProcess(
          join(bin, 'server'),
          ['--config-file', configFile, '--allow-no-auth', 'start', '--service', service],
          join(options.stateDir, `temporal-${service}.log`),
          { keepsParentAlive: options.keepsParentAlive ?? true },
        ),
      );
    }
    const address = `127.0.0.1:${ports.frontend.grpc}`;
    const frontend = procs[SERVICES.indexOf('frontend')]!;
    await waitUntilReady('Temporal frontend', frontend, () => isServing(address), 120_000);
    await waitUntilReady('Temporal namespace', frontend, () => registerNamespace(address), 120_000);
    return { address, namespace: NAMESPACE, logFiles: procs.map((p) => p.logFile), stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

const execFileAsync = promisify(execFile);

/** Idempotent: creates the database, the schema at 0.0 once, then updates it to the newest version. */
async function setupSchema(
  bin: string,
  postgres: TemporalClusterOptions['postgres'],
  user: string,
  database: string,
  schemaName: string,
): Promise<void> {
  const url = await ensureDatabase(postgres.adminUrl, database);
  const sql = join(bin, 'sql');
  // Trust authentication: the password is not checked, but the tool wants one.
  const common = ['--ep', '127.0.0.1', '-p', new URL(postgres.adminUrl).port, '-u', user, '--pw', 'unused', '--pl', 'postgres12', '--db', database];
  if (!(await hasSchemaVersionTable(url))) await execFileAsync(sql, [...common, 'setup-schema', '-v', '0.0']);
  await execFileAsync(sql, [...common, 'update-schema', '--schema-name', schemaName]);
}

async function hasSchemaVersionTable(url: string): Promise<boolean> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const found = await client.query("SELECT 1 FROM information_schema.tables WHERE table_name = 'schema_version'");
    return (found.rowCount ?? 0) > 0;
  } finally {
    await client.end();
  }
}

interface ServicePorts {
  grpc: number;
  membership: number;
  metrics: number;
  http?: number;
}
type ClusterPorts = Record<Service, ServicePorts>;

async function allocatePorts(): Promise<ClusterPorts> {
  const ports = {} as ClusterPorts;
  for (const service of SERVICES) {
    ports[service] = { grpc: await freePort(), membership: await freeSmallintPort(), metrics: await freePort() };
  }
  ports.frontend.http = await freePort();
  return ports;
}

/**
 * The cluster_membership table keeps the membership port in a smallint: a kernel-chosen
 * (ephemeral, ≥ 32768) port makes every service die with "out of range for type smallint".
 */
async function freeSmallintPort(): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const port = 20_000 + Math.floor(Math.random() * 12_000);
    if (await canBind(port)) return port;
  }
  throw new Error('no free loopback port below 32768 for Temporal membership');
}

function canBind(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.unref();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

function serverConfig(pgPort: number, user: string, ports: ClusterPorts, service: Service, dynamicConfig: string) {
  const datastore = (databaseName: string, maxConns: number) => ({
    sql: {
      pluginName: 'postgres12',
      databaseName,
      connectAddr: `127.0.0.1:${pgPort}`,
      connectProtocol: 'tcp',
      user,
      password: 'unused',
      maxConns,
      maxIdleConns: maxConns,
      maxConnLifetime: '1h',
    },
  });
  const services = Object.fromEntries(
    SERVICES.map((s) => [
      s,
      {
        rpc: {
          grpcPort: ports[s].grpc,
          membershipPort: ports[s].membership,
          bindOnLocalHost: true,
          ...(ports[s].http ? { httpPort: ports[s].http } : {}),
        },
      },
    ]),
  );
  return {
    log: { stdout: true, level: 'warn' },
    persistence: {
      defaultStore: 'postgres-default',
      visibilityStore: 'postgres-visibility',
      numHistoryShards: HISTORY_SHARDS,
      datastores: {
        'postgres-default': datastore('temporal', 20),
        'postgres-visibility': datastore('temporal_visibility', 4),
      },
    },
    global: {
      membership: { maxJoinDuration: '30s', broadcastAddress: '127.0.0.1' },
      // Each process its own metrics port: they would collide on one.
      metrics: {
        prometheus: { framework: 'tally', timerType: 'histogram', listenAddress: `127.0.0.1:${ports[service].metrics}` },
      },
    },
    services,
    clusterMetadata: {
      enableGlobalNamespace: false,
      failoverVersionIncrement: 10,
      masterClusterName: 'active',
      currentClusterName: 'active',
      clusterInformation: {
        active: { enabled: true, initialFailoverVersion: 1, rpcName: 'frontend', rpcAddress: `127.0.0.1:${ports.frontend.grpc}` },
      },
    },
    dcRedirectionPolicy: { policy: 'noop' },
    dynamicConfigClient: { filepath: dynamicConfig, pollInterval: '10s' },
  };
}

// New search attributes and namespaces visible at once, as on the dev server (tests register and use them right away).
const DYNAMIC_CONFIG = `system.forceSearchAttributesCacheRefreshOnRead:
  - value: true
system.namespaceCacheRefreshInterval:
  - value: 1s
`;

async function isServing(address: string): Promise<boolean> {
  const connection = await Connection.connect({ address, connectTimeout: 1_000 });
  try {
    const response = await connection.healthService.check({});
    return response.status === 1; // SERVING
  } finally {
    await connection.close();
  }
}

const INDEXED_VALUE_TYPES: Record<string, proto.temporal.api.enums.v1.IndexedValueType> = {
  Keyword: proto.temporal.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD,
  Text: proto.temporal.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_TEXT,
  Int: proto.temporal.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_INT,
  Datetime: proto.temporal.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_DATETIME,
  Bool: proto.temporal.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_BOOL,
};

/**
 * Registers `default` (if missing) and our search attributes (those missing), then checks a
 * visibility query that names them answers: then the history and matching services are up too.
 */
async function registerNamespace(address: string): Promise<boolean> {
  const connection = await Connection.connect({ address, connectTimeout: 2_000 });
  try {
    const namespaces = await connection.workflowService.listNamespaces({});
    if (!namespaces.namespaces.some((n) => n.namespaceInfo?.name === NAMESPACE)) {
      await connection.workflowService.registerNamespace({
        namespace: NAMESPACE,
        workflowExecutionRetentionPeriod: proto.google.protobuf.Duration.fromObject({ seconds: 24 * 3600 }),
      });
    }
    const existing = await connection.operatorService.listSearchAttributes({ namespace: NAMESPACE });
    const missing = Object.entries(SEARCH_ATTRIBUTE_TYPES).filter(([name]) => !(name in (existing.customAttributes ?? {})));
    if (missing.length > 0) {
      await connection.operatorService.addSearchAttributes({
        namespace: NAMESPACE,
        searchAttributes: Object.fromEntries(missing.map(([name, type]) => [name, INDEXED_VALUE_TYPES[type]!])),
      });
    }
    const names = Object.keys(SEARCH_ATTRIBUTE_TYPES);
    await connection.workflowService.listWorkflowExecutions({
      namespace: NAMESPACE,
      query: names.map((n) => `${n} = "probe"`).join(' AND '),
    });
    return true;
  } finally {
    await connection.close();
  }
}
