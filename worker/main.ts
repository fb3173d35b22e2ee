#!/usr/bin/env node
// The one worker binary: `--queues workflows,local` (or IMAGECAST_QUEUES) picks what it serves,
// so each cloud, and each cloud's uploads, scale on their own. SIGTERM/SIGINT drain in-flight work, then exit.
import { Command } from 'commander';
import { NativeConnection, Runtime } from '@temporalio/worker';
import pino from 'pino';
import {
  temporalConnectionOptions,
  workerConfigFromEnv,
  workerConfigSchema,
  WORKER_QUEUES,
} from '../schemas/config.js';
import { createPool } from '../infra/db/pool.js';
import { migrate } from '../infra/db/migrate.js';
import { ImageCatalog } from '../activities/common/catalog/catalog.js';
import { createLocalCloud } from '../activities/local/index.js';
import { createEc2Cloud } from '../activities/ec2/index.js';
import { createGceCloud } from '../activities/gce/index.js';
import { createAzureCloud } from '../activities/azure/index.js';
import { StorageSharedKeyCredential } from '@azure/storage-blob';
import { readFileSync } from 'node:fs';
import { loadAccountDirectory, NO_ACCOUNTS } from '../activities/accounts/account-directory.js';
import { AccountStore } from '../activities/accounts/account-store.js';
import { storedAccountDirectory } from '../activities/accounts/stored-account-directory.js';
import { payloadKeysFromEnv, type PayloadKeys } from '../infra/codec/payload-keys.js';
import { keyRingMasterKeys } from '../secrets/envelope.js';
import { tracingFromEnv } from './tracing.js';
import { workerVersionFromEnv, type WorkerVersion } from './deployment-versioning.js';
import { keyRingFromEnv, type KeyRing } from '../secrets/key-ring.js';
import { createWorkers } from './create-workers.js';
import type { CloudProvider } from '../activities/provider.js';
import type { ObjectWritersByCloud } from '../activities/common/imagelist/publish-target.js';
import { EndorserStore } from '../activities/common/imagelist/endorser-store.js';
import { ImageListStore } from '../activities/common/imagelist/list-store.js';
import {
  publishMappingsFromEnv,
  publishMappingsOrigin,
} from '../activities/common/imagelist/publish-mappings-file.js';
import { cloudsServed, servedTaskQueues } from '../schemas/worker-queues.js';
import {
  createNotifier,
  notifyConfigFromEnv,
  type NotifyConfig,
} from '../activities/common/notify/notifier.js';
import { createImageListRenewalNotifier } from '../activities/common/notify/imagelist-renewal.js';
import { ImageListRenewalUnavailable } from '../activities/common/imagelist/renew-lists.js';

const log = pino({ name: 'imagecast-worker' });

const program = new Command('imagecast-worker')
  .description(
    'Serve Imagecast task queues: release workflows and cloud-neutral activities, and per-cloud activities',
  )
  .option(
    '--queues <list>',
    `comma-separated queues to serve: ${WORKER_QUEUES.join(', ')}. <cloud> serves both of its task queues, <prefix><cloud> (cloud calls) and <prefix><cloud>-upload (uploads); <cloud>-calls or <cloud>-upload serves one`,
  )
  .option('--queue-prefix <prefix>', 'task queue prefix (default "imagecast-")')
  .option('--address <host:port>', 'Temporal frontend (env IMAGECAST_TEMPORAL_ADDRESS)')
  .option('--namespace <name>', 'Temporal namespace (env IMAGECAST_TEMPORAL_NAMESPACE)')
  .option(
    '--metrics <host:port>',
    'serve Prometheus metrics at http://HOST:PORT/metrics (env IMAGECAST_METRICS_ADDRESS)',
  )
  .addHelpText(
    'after',
    `
Environment: IMAGECAST_DATABASE_URL (required), IMAGECAST_TEMPORAL_ADDRESS, IMAGECAST_TEMPORAL_NAMESPACE,
IMAGECAST_QUEUES, IMAGECAST_QUEUE_PREFIX, IMAGECAST_LOCAL_DATA_DIR, IMAGECAST_WORKFLOW_BUNDLE,
IMAGECAST_MASTER_KEY or IMAGECAST_MASTER_KEYS_FILE (opens the accounts stored with \`imagecast account\`
and the image list endorsers' keys), IMAGECAST_CONFIG (its "imagelist_publish" mappings: where jobs' image_lists are published and
renewed lists are uploaded; read again at each renewal),
IMAGECAST_ACCOUNTS_FILE (accounts from a JSON file instead), IMAGECAST_PAYLOAD_KEY or IMAGECAST_PAYLOAD_KEYS_FILE
(encrypt payloads in Temporal; clients need the same), IMAGECAST_SMTP_HOST, IMAGECAST_SMTP_PORT,
IMAGECAST_SMTP_SECURE, IMAGECAST_SMTP_USER, IMAGECAST_SMTP_PASSWORD, IMAGECAST_SMTP_FROM (release emails),
IMAGECAST_WEBHOOK_URLS, IMAGECAST_WEBHOOK_SECRET (signed release webhooks), IMAGECAST_UI_URL (links in them),
IMAGECAST_AWS_ENDPOINT (an AWS emulator), IMAGECAST_AWS_CREDENTIALS_RENEW_BEFORE_SECONDS (renew assumed-role credentials this long before they expire, default 300),
IMAGECAST_EC2_POLL_MS, IMAGECAST_GCE_COMPUTE_ENDPOINT, IMAGECAST_GCS_ENDPOINT, IMAGECAST_GCE_POLL_MS (GCE fakes),
IMAGECAST_AZURE_ARM_ENDPOINT, IMAGECAST_AZURE_ARM_CA_FILE, IMAGECAST_AZURE_BLOB_ENDPOINT, IMAGECAST_AZURE_BLOB_KEY,
IMAGECAST_AZURE_POLL_MS (Azure fakes: an ARM fake over HTTPS and Azurite), IMAGECAST_TEST_SSH_WAIT_SECONDS (how long a test instance may take to answer SSH, default 600),
IMAGECAST_QEMU_ACCEL (local test instances: tcg (default) or kvm), IMAGECAST_METRICS_ADDRESS (Prometheus endpoint HOST:PORT:
the SDK's temporal_* metrics and imagecast_* ones), IMAGECAST_HEARTBEAT_THROTTLE_SECONDS (at most this long between
an activity's heartbeats to the server, default 2; ~10 in production), IMAGECAST_ACTIVITY_SLOTS (at most this many
activities at once per queue served, upload queues excepted; the SDK's default is 100), IMAGECAST_UPLOAD_SLOTS (at most
this many uploads at once per <cloud>-upload queue served, default 2: each holds its stream in memory and shares the
pod's bandwidth, so scale pods out rather than slots up), OTEL_EXPORTER_OTLP_ENDPOINT or
OTEL_EXPORTER_OTLP_TRACES_ENDPOINT (trace releases: OTLP/HTTP, e.g. http://otel-collector:4318; OTEL_SERVICE_NAME,
OTEL_BSP_SCHEDULE_DELAY and the exporter's other OTEL_* settings apply), IMAGECAST_WORKER_DEPLOYMENT_NAME and
IMAGECAST_WORKER_BUILD_ID (or TEMPORAL_DEPLOYMENT_NAME and WORKER_BUILD_ID: Worker Deployment Versioning, releases
pinned to the build they started on; docs/operations.md). AWS credentials for assuming account roles come from the SDK's default chain.

Examples:
  IMAGECAST_DATABASE_URL=postgresql://imagecast@127.0.0.1:5432/imagecast \\
    imagecast-worker --queues workflows,local --address 127.0.0.1:7233
  imagecast-worker --queues ec2-calls      # EC2's cloud calls only (imagecast-ec2)
  imagecast-worker --queues ec2-upload     # EC2's uploads only (imagecast-ec2-upload)`,
  )
  .parse();

const flags = program.opts<{
  queues?: string;
  queuePrefix?: string;
  address?: string;
  namespace?: string;
  metrics?: string;
}>();
const parsed = workerConfigSchema.safeParse({
  ...workerConfigFromEnv(process.env),
  ...(flags.queues && { queues: flags.queues.split(',').map((q) => q.trim()) }),
  ...(flags.queuePrefix !== undefined && { queuePrefix: flags.queuePrefix }),
  ...(flags.address && { address: flags.address }),
  ...(flags.namespace && { namespace: flags.namespace }),
  ...(flags.metrics && { metricsAddress: flags.metrics }),
});
if (!parsed.success) {
  for (const issue of parsed.error.issues)
    console.error(`worker config: ${issue.path.join('.') || '(root)'}: ${issue.message}`);
  process.exit(2);
}
const config = parsed.data;
let payloadKeys: PayloadKeys | undefined;
let masterKeys: KeyRing | undefined;
let notifyConfig: NotifyConfig;
let workerVersion: WorkerVersion | undefined;
try {
  payloadKeys = payloadKeysFromEnv(process.env);
  masterKeys = keyRingFromEnv(process.env, 'IMAGECAST_MASTER');
  notifyConfig = notifyConfigFromEnv(process.env);
  workerVersion = workerVersionFromEnv(process.env);
} catch (error) {
  console.error(`worker config: ${(error as Error).message}`);
  process.exit(2);
}
const clouds = cloudsServed(config.queues);
const accountQueues = clouds.filter((c) => c !== 'local');
if (accountQueues.length > 0 && !config.accountsFile && !masterKeys) {
  console.error(
    `worker config: accounts: the ${accountQueues.join(' and ')} queue needs accounts: set IMAGECAST_MASTER_KEY or IMAGECAST_MASTER_KEYS_FILE (accounts stored with "imagecast account"), or IMAGECAST_ACCOUNTS_FILE`,
  );
  process.exit(2);
}
const fileAccounts = config.accountsFile
  ? await loadAccountDirectory(config.accountsFile).catch((error: Error) => {
      console.error(`worker config: accountsFile: ${error.message}`);
      process.exit(2);
    })
  : undefined;

/** The Azure provider, against Azure or, with the IMAGECAST_AZURE_* endpoints, its fakes. */
function azureCloud() {
  const { azureBlobEndpoint: blobRoot, azureBlobKey: blobKey } = config;
  if (blobRoot && !blobKey) {
    console.error(
      "worker config: azureBlobKey: IMAGECAST_AZURE_BLOB_KEY (the emulator's shared key) is required with IMAGECAST_AZURE_BLOB_ENDPOINT, and is not set",
    );
    process.exit(2);
  }
  let armCaPem: string | undefined;
  try {
    armCaPem = config.azureArmCaFile ? readFileSync(config.azureArmCaFile, 'utf8') : undefined;
  } catch (error) {
    console.error(
      `worker config: azureArmCaFile: cannot read ${config.azureArmCaFile}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`,
    );
    process.exit(2);
  }
  return createAzureCloud({
    accounts,
    armEndpoint: config.azureArmEndpoint,
    armCaPem,
    pollMs: config.azurePollMs,
    ...(blobRoot && {
      blob: {
        endpointFor: (storageAccount: string) => `${blobRoot.replace(/\/$/, '')}/${storageAccount}`,
        credentialFor: (storageAccount: string) => new StorageSharedKeyCredential(storageAccount, blobKey!),
      },
    }),
  });
}

// Before the first connection: the runtime (and its metrics exporter) is made once per process.
if (config.metricsAddress) {
  try {
    Runtime.install({
      telemetryOptions: { metrics: { prometheus: { bindAddress: config.metricsAddress } } },
    });
  } catch (error) {
    // A port taken by another process: say which setting, not a native stack.
    console.error(
      `worker config: metricsAddress: cannot serve metrics at ${config.metricsAddress}: ${(error as Error).message}`,
    );
    process.exit(2);
  }
}

const tracing = tracingFromEnv(process.env);
const pool = createPool(config.databaseUrl);
// Accounts from the file when one is named, else from the encrypted store (opened at call time).
const accounts =
  fileAccounts ??
  (masterKeys
    ? storedAccountDirectory(new AccountStore(pool, keyRingMasterKeys(masterKeys), 'worker'))
    : NO_ACCOUNTS);
// Image lists (job field image_lists) need the master key that opens the endorsers' keys.
let imageLists;
if (masterKeys) {
  let publishing;
  try {
    publishing = publishMappingsFromEnv(process.env);
  } catch (error) {
    console.error(`worker config: ${(error as Error).message}`);
    process.exit(2);
  }
  const ring = masterKeys;
  const endorsers = new EndorserStore(pool, () => keyRingMasterKeys(ring), 'worker');
  imageLists = {
    pool,
    endorsers,
    lists: new ImageListStore(pool, endorsers, 'worker'),
    mappings: publishing.mappings,
    configOrigin: publishing.origin,
  };
}
try {
  const applied = await migrate(pool).catch((error: Error) => {
    // The usual first-run mistake: name the setting and where it points, not a driver stack.
    const where = (() => {
      try {
        const url = new URL(config.databaseUrl);
        return `${url.hostname}:${url.port || 5432}${url.pathname}`;
      } catch {
        return 'the configured address';
      }
    })();
    console.error(`worker: cannot use the database at ${where} (IMAGECAST_DATABASE_URL): ${error.message}`);
    process.exit(1);
  });
  if (applied.length) log.info({ applied }, 'database migrated');
  // One provider per cloud, made on first use: the cloud queues' activities, and the object
  // stores (s3://, gs://, azure-blob://) the workflows queue publishes image lists to.
  const madeClouds: Partial<Record<'ec2' | 'gce' | 'azure', CloudProvider>> = {};
  const objectStoreCloud = (cloud: 'ec2' | 'gce' | 'azure'): CloudProvider =>
    (madeClouds[cloud] ??=
      cloud === 'ec2'
        ? createEc2Cloud({
            accounts,
            endpoint: config.awsEndpoint,
            pollMs: config.ec2PollMs,
            renewBeforeMs: config.awsCredentialsRenewBeforeSeconds * 1000,
            onRenewal: (account) => log.info({ account }, 'AWS credentials obtained from STS'),
          })
        : cloud === 'gce'
          ? createGceCloud({
              accounts,
              computeEndpoint: config.gceComputeEndpoint,
              storageEndpoint: config.gcsEndpoint,
              pollMs: config.gcePollMs,
            })
          : azureCloud());
  const objectWriters: ObjectWritersByCloud = (cloud) => (input) =>
    objectStoreCloud(cloud).openObjectWriter!(input);
  const connection = await NativeConnection.connect(temporalConnectionOptions(config));
  const workers = await createWorkers({
    connection,
    namespace: config.namespace,
    queuePrefix: config.queuePrefix,
    queues: config.queues,
    workflowBundle: config.workflowBundle,
    payloadKeys,
    heartbeatThrottleMs: config.heartbeatThrottleSeconds * 1000,
    activitySlots: config.activitySlots,
    tracing,
    workerVersion,
    uploadSlots: config.uploadSlots,
    deps: {
      catalog: new ImageCatalog(pool),
      accounts,
      awsEndpoint: config.awsEndpoint,
      notifier: createNotifier(notifyConfig),
      ...(imageLists && { imageLists: { ...imageLists, objectWriters } }),
      imageListRenewal: {
        objectWriters,
        pool,
        masterKeys: () => {
          if (!masterKeys)
            throw new ImageListRenewalUnavailable(
              "this worker has no master key to open the endorsers' keys: set IMAGECAST_MASTER_KEY or IMAGECAST_MASTER_KEYS_FILE",
            );
          return keyRingMasterKeys(masterKeys);
        },
        publishMappingsFile: publishMappingsOrigin(process.env),
        notifier: createImageListRenewalNotifier(notifyConfig),
      },
      imageTests: { sshWaitMs: config.testSshWaitSeconds * 1000 },
      providers: {
        local: createLocalCloud({ dataDir: config.localDataDir }),
        ...(clouds.includes('ec2') && { ec2: objectStoreCloud('ec2') }),
        ...(clouds.includes('gce') && { gce: objectStoreCloud('gce') }),
        ...(clouds.includes('azure') && { azure: objectStoreCloud('azure') }),
      },
    },
  });
  log.info(
    {
      queues: servedTaskQueues(config.queues).map((q) => config.queuePrefix + q.suffix),
      address: config.address,
      payloads: payloadKeys ? `encrypted (key ${payloadKeys.currentId})` : 'plain',
      accounts: config.accountsFile
        ? 'file'
        : masterKeys
          ? `store (master key ${masterKeys.currentId})`
          : 'none',
      ...(config.metricsAddress && { metrics: `http://${config.metricsAddress}/metrics` }),
      ...(workerVersion && {
        version: `${workerVersion.deploymentName} build ${workerVersion.buildId} (releases pinned)`,
      }),
      ...(tracing && {
        tracing: process.env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT || process.env.OTEL_EXPORTER_OTLP_ENDPOINT,
      }),
    },
    'worker started',
  );
  await Promise.all(workers.map((w) => w.run()));
  await connection.close();
  log.info('worker stopped');
} finally {
  // The spans of the last activities, before the process goes.
  await tracing
    ?.shutdown()
    .catch((error: Error) => log.warn({ err: error.message }, 'could not send the last trace spans'));
  await pool.end();
}
