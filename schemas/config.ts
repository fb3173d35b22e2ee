import { z } from 'zod';
import { CLOUDS, DEFAULT_QUEUE_PREFIX, WORKFLOWS_QUEUE_SUFFIX } from './steps.js';

export const WORKER_QUEUES = [WORKFLOWS_QUEUE_SUFFIX, ...CLOUDS] as const;
export type WorkerQueue = (typeof WORKER_QUEUES)[number];

/** Where the Temporal server is; the same settings for the worker, the CLI and the SDK. */
export const temporalConfigSchema = z.object({
  address: z.string().min(1).default('127.0.0.1:7233').describe('host:port of the Temporal frontend'),
  namespace: z.string().min(1).default('default'),
  queuePrefix: z
    .string()
    .regex(/^[A-Za-z0-9._-]*$/)
    .default(DEFAULT_QUEUE_PREFIX)
    .describe('task queues are <prefix>workflows and <prefix><cloud>'),
});

export const workerConfigSchema = temporalConfigSchema.extend({
  queues: z
    .array(z.enum(WORKER_QUEUES))
    .min(1)
    .default([WORKFLOWS_QUEUE_SUFFIX, 'local'])
    .describe('task queues this worker serves'),
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
      'JSON file of cloud accounts ({"ec2": [...]}, see docs/ec2.md); needed by workers that plan or run EC2 releases',
    ),
  awsEndpoint: z
    .url()
    .optional()
    .describe(
      'one endpoint for every AWS service (an emulator such as moto); unset means the real AWS endpoints',
    ),
  ec2PollMs: z.coerce
    .number()
    .int()
    .min(10)
    .default(15_000)
    .describe('between polls of EC2 snapshots and copies in progress'),
  workflowBundle: z
    .string()
    .optional()
    .describe('prebuilt workflow bundle (npm run build makes dist/workflow-bundle.js)'),
});

export type TemporalConfig = z.infer<typeof temporalConfigSchema>;
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
  };
}
