import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { issueMessage } from './zod-messages.js';
import { DEFAULT_QUEUE_PREFIX, WORKFLOWS_QUEUE_SUFFIX } from './steps.js';
import { WORKER_QUEUES } from './worker-queues.js';

export { WORKER_QUEUES, type WorkerQueue } from './worker-queues.js';

/** Fewest-slot default for uploads: each holds a stream's buffers and a share of the pod's bandwidth. */
export const DEFAULT_UPLOAD_SLOTS = 2;

/** Where the Temporal server is; the same settings for the worker, the CLI and the SDK. */
export const temporalConfigSchema = z.object({
  address: z.string().min(1).default('127.0.0.1:7233').describe('host:port of the Temporal frontend'),
  namespace: z.string().min(1).default('default'),
  tls: z
    .union([
      z.boolean(),
      z
        .object({
          serverName: z.string().optional(),
          serverRootCaCertFile: z.string().optional().describe('PEM file of the CA that signed the server certificate'),
          clientCertFile: z.string().optional().describe('PEM client certificate (mTLS, e.g. Temporal Cloud)'),
          clientKeyFile: z.string().optional().describe('PEM client key (mTLS)'),
        })
        .strict(),
    ])
    .optional()
    .describe('TLS to the frontend: true for system CAs, or files for mTLS'),
  apiKey: z.string().min(1).optional().describe('API key (Temporal Cloud); sent as a bearer token, implies TLS'),
  queuePrefix: z
    .string()
    .regex(/^[A-Za-z0-9._-]*$/)
    .default(DEFAULT_QUEUE_PREFIX)
    .describe('task queues are <prefix>workflows, <prefix><cloud> and <prefix><cloud>-upload'),
});

export const workerConfigSchema = temporalConfigSchema.extend({
  queues: z
    // A queue name is no secret: say which one was given (the hint catches `ec2-uploads`).
    .array(z.enum(WORKER_QUEUES, { error: (issue) => issueMessage(issue, true) }))
    .min(1)
    .default([WORKFLOWS_QUEUE_SUFFIX, 'local'])
    .describe('task queues this worker serves: workflows; <cloud> (its calls and uploads), <cloud>-calls or <cloud>-upload'),
  databaseUrl: z.string().url().describe('PostgreSQL connection string (catalog, accounts)'),
  localDataDir: z
    .string()
    .min(1)
    .default('.data/local-cloud')
    .describe('where the local cloud keeps its regions'),
  accountsFile: z
    .string()
    .min(1)
    .optional()
    .describe(
      'JSON file of cloud accounts ({"ec2": [...], "gce": [...], "azure": [...]}, see docs/ec2.md, docs/gce.md and docs/azure.md); needed by workers that plan or run EC2, GCE or Azure releases',
    ),
  awsEndpoint: z
    .url()
    .optional()
    .describe(
      'one endpoint for every AWS service (an emulator such as moto); unset means the real AWS endpoints',
    ),
  awsCredentialsRenewBeforeSeconds: z.coerce
    .number()
    .int()
    .min(60)
    .max(43_200)
    .default(300)
    .describe(
      "how long before they expire assumed-role credentials (role_arn accounts) are renewed; the sessions last 1 h unless the account's session_duration_seconds says otherwise. A window nearly as long as the session makes credentials short-lived in effect (a test of renewal)",
    ),
  gceComputeEndpoint: z
    .url()
    .optional()
    .describe(
      'Compute Engine API root of a fake (http://127.0.0.1:PORT); requests to it carry no Google token. Unset means Google',
    ),
  gcsEndpoint: z
    .url()
    .optional()
    .describe('Cloud Storage API root of an emulator such as fake-gcs-server (no Google token either). Unset means Google'),
  gcePollMs: z.coerce
    .number()
    .int()
    .min(10)
    .default(5_000)
    .describe('between polls of GCE operations and images that are not ready'),
  azureArmEndpoint: z
    .url({ protocol: /^https$/ })
    .optional()
    .describe('Resource Manager root of a fake (https://127.0.0.1:PORT; the SDK sends tokens over HTTPS only); its requests carry a dummy token. Unset means Azure'),
  azureArmCaFile: z.string().min(1).optional().describe("PEM of the CA the ARM fake's certificate is signed with (trusted for ARM calls only)"),
  azureBlobEndpoint: z
    .url()
    .optional()
    .describe('Blob service root of an emulator such as Azurite (http://127.0.0.1:PORT; the storage account is the first path segment). Unset means <account>.blob.core.windows.net'),
  azureBlobKey: z.string().min(1).optional().describe("the emulator's shared key (Azurite's is public); with azureBlobEndpoint only"),
  azurePollMs: z.coerce
    .number()
    .int()
    .min(10)
    .default(5_000)
    .describe('between polls of Azure operations and replication when Azure sends no Retry-After'),
  ec2PollMs: z.coerce
    .number()
    .int()
    .min(10)
    .default(15_000)
    .describe('between polls of EC2 snapshots and copies in progress'),
  testSshWaitSeconds: z.coerce
    .number()
    .int()
    .min(10)
    .default(600)
    .describe('how long a test instance may take to boot and answer SSH before its tests fail'),
  workflowBundle: z
    .string()
    .optional()
    .describe('prebuilt workflow bundle (npm run build makes dist/workflow-bundle.js)'),
  metricsAddress: z
    .string()
    .regex(/^(\[[0-9a-fA-F:]+\]|[A-Za-z0-9.-]+):\d{1,5}$/, 'HOST:PORT, e.g. 0.0.0.0:9464')
    .optional()
    .describe('serve Prometheus metrics (the SDK\'s temporal_* and imagecast_*) at http://HOST:PORT/metrics'),
  heartbeatThrottleSeconds: z.coerce
    .number()
    .min(0.1)
    .max(300)
    .default(2)
    .describe('at most this long between heartbeats the SDK sends for an activity (progress, cancellation); ~10 in production cuts heartbeat load'),
  activitySlots: z.coerce
    .number()
    .int()
    .min(1)
    .max(10_000)
    .optional()
    .describe('at most this many activities at once on each queue the process serves, uploads excepted (the SDK defaults to 100); what a pod is sized and autoscaled for'),
  uploadSlots: z.coerce
    .number()
    .int()
    .min(1)
    .max(1_000)
    .default(DEFAULT_UPLOAD_SLOTS)
    .describe(
      'at most this many uploads at once on each <cloud>-upload queue the process serves: few, since each upload holds its stream buffers in memory and shares the pod\'s bandwidth; scale pods out instead',
    ),
});

export type TemporalConfig = z.infer<typeof temporalConfigSchema>;

/**
 * The connection options the SDK's Connection and NativeConnection take: TLS files read, an
 * API key turning TLS on (Temporal Cloud requires it).
 */
export function temporalConnectionOptions(config: TemporalConfig): {
  address: string;
  tls?: boolean | { serverNameOverride?: string; serverRootCACertificate?: Buffer; clientCertPair?: { crt: Buffer; key: Buffer } };
  apiKey?: string;
} {
  const read = (file: string, what: string) => {
    try {
      return readFileSync(file);
    } catch (error) {
      throw new Error(`tls.${what}: cannot read ${file}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`);
    }
  };
  const tls = config.tls;
  const files =
    typeof tls === 'object'
      ? {
          ...(tls.serverName && { serverNameOverride: tls.serverName }),
          ...(tls.serverRootCaCertFile && { serverRootCACertificate: read(tls.serverRootCaCertFile, 'serverRootCaCertFile') }),
          ...(tls.clientCertFile &&
            tls.clientKeyFile && {
              clientCertPair: { crt: read(tls.clientCertFile, 'clientCertFile'), key: read(tls.clientKeyFile, 'clientKeyFile') },
            }),
        }
      : undefined;
  const wantsTls = files !== undefined || tls === true || config.apiKey !== undefined;
  return {
    address: config.address,
    ...(wantsTls && { tls: files ?? true }),
    ...(config.apiKey && { apiKey: config.apiKey }),
  };
}
export type WorkerConfig = z.infer<typeof workerConfigSchema>;

/** Environment variables that configure a worker (flags override them). */
export function workerConfigFromEnv(env: NodeJS.ProcessEnv): Record<string, unknown> {
  return {
    address: env.IMAGECAST_TEMPORAL_ADDRESS || undefined,
    namespace: env.IMAGECAST_TEMPORAL_NAMESPACE || undefined,
    queuePrefix: env.IMAGECAST_QUEUE_PREFIX ?? undefined,
    queues: env.IMAGECAST_QUEUES ? env.IMAGECAST_QUEUES.split(',').map((q) => q.trim()) : undefined,
    databaseUrl: env.IMAGECAST_DATABASE_URL || undefined,
    localDataDir: env.IMAGECAST_LOCAL_DATA_DIR || undefined,
    workflowBundle: env.IMAGECAST_WORKFLOW_BUNDLE || undefined,
    accountsFile: env.IMAGECAST_ACCOUNTS_FILE || undefined,
    awsEndpoint: env.IMAGECAST_AWS_ENDPOINT || undefined,
    ec2PollMs: env.IMAGECAST_EC2_POLL_MS || undefined,
    awsCredentialsRenewBeforeSeconds: env.IMAGECAST_AWS_CREDENTIALS_RENEW_BEFORE_SECONDS || undefined,
    gceComputeEndpoint: env.IMAGECAST_GCE_COMPUTE_ENDPOINT || undefined,
    gcsEndpoint: env.IMAGECAST_GCS_ENDPOINT || undefined,
    gcePollMs: env.IMAGECAST_GCE_POLL_MS || undefined,
    azureArmEndpoint: env.IMAGECAST_AZURE_ARM_ENDPOINT || undefined,
    azureArmCaFile: env.IMAGECAST_AZURE_ARM_CA_FILE || undefined,
    azureBlobEndpoint: env.IMAGECAST_AZURE_BLOB_ENDPOINT || undefined,
    azureBlobKey: env.IMAGECAST_AZURE_BLOB_KEY || undefined,
    azurePollMs: env.IMAGECAST_AZURE_POLL_MS || undefined,
    testSshWaitSeconds: env.IMAGECAST_TEST_SSH_WAIT_SECONDS || undefined,
    metricsAddress: env.IMAGECAST_METRICS_ADDRESS || undefined,
    heartbeatThrottleSeconds: env.IMAGECAST_HEARTBEAT_THROTTLE_SECONDS || undefined,
    activitySlots: env.IMAGECAST_ACTIVITY_SLOTS || undefined,
    uploadSlots: env.IMAGECAST_UPLOAD_SLOTS || undefined,
    ...temporalAccessFromEnv(env),
  };
}

/**
 * TLS and API key from the environment: IMAGECAST_TEMPORAL_TLS=true, IMAGECAST_TEMPORAL_TLS_CA,
 * _TLS_CERT, _TLS_KEY, _TLS_SERVER_NAME (files), IMAGECAST_TEMPORAL_API_KEY.
 */
export function temporalAccessFromEnv(env: NodeJS.ProcessEnv): Record<string, unknown> {
  const files = {
    serverName: env.IMAGECAST_TEMPORAL_TLS_SERVER_NAME || undefined,
    serverRootCaCertFile: env.IMAGECAST_TEMPORAL_TLS_CA || undefined,
    clientCertFile: env.IMAGECAST_TEMPORAL_TLS_CERT || undefined,
    clientKeyFile: env.IMAGECAST_TEMPORAL_TLS_KEY || undefined,
  };
  const anyFile = Object.values(files).some((v) => v !== undefined);
  const tls = anyFile ? files : env.IMAGECAST_TEMPORAL_TLS ? env.IMAGECAST_TEMPORAL_TLS === 'true' : undefined;
  return {
    ...(tls !== undefined && { tls }),
    ...(env.IMAGECAST_TEMPORAL_API_KEY && { apiKey: env.IMAGECAST_TEMPORAL_API_KEY }),
  };
}
