import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Client } from '@temporalio/client';
import { NativeConnection, Worker, type WorkerOptions } from '@temporalio/worker';
import type { CloudName } from '../schemas/steps.js';
import { queueName, WORKFLOWS_QUEUE_SUFFIX } from '../schemas/steps.js';
import type { WorkerQueue } from '../schemas/config.js';
import type { CloudProvider } from '../activities/provider.js';
import type { ImageCatalog } from '../activities/common/catalog/catalog.js';
import { createCloudActivities } from '../activities/cloud-activities.js';
import type { TestImageSettings } from '../activities/common/image-tests/test-image.js';
import { createReleaseActivities } from '../activities/common/release-activities.js';
import { createRevokeActivities, createRevokeCloudActivities } from '../activities/revoke-activities.js';
import { createNotifier, type ReleaseNotifier } from '../activities/common/notify/notifier.js';
import type { AccountDirectory } from '../activities/accounts/account-directory.js';
import { payloadDataConverter } from '../infra/codec/data-converter.js';
import { reportFailedAttempts } from './report-failed-attempts.js';
import type { PayloadKeys } from '../infra/codec/payload-keys.js';

export interface WorkerDeps {
  catalog: ImageCatalog;
  /** Account names → regions (planning) and credentials (cloud activities). */
  accounts?: AccountDirectory;
  providers: Partial<Record<CloudName, CloudProvider>>;
  /** The test step's limits (how long an instance may take to boot). */
  imageTests?: TestImageSettings;
  /** Sends end-of-release notifications (SMTP, webhooks); without one, only webhook-less, email-less jobs notify. */
  notifier?: ReleaseNotifier;
}

export interface CreateWorkersOptions {
  connection: NativeConnection;
  namespace: string;
  queuePrefix: string;
  queues: WorkerQueue[];
  deps: WorkerDeps;
  /** Prebuilt bundle; without one the workflows are bundled at start (slower). */
  workflowBundle?: string;
  identity?: string;
  /** Encrypts payloads (job documents, results, heartbeats) in Temporal; the clients need the same keys. */
  payloadKeys?: PayloadKeys;
  /** Tests shorten this so a stopped worker lets go quickly. */
  shutdownGraceTime?: WorkerOptions['shutdownGraceTime'];
  /** At most this long between an activity's heartbeats to the server (default 2 s). */
  heartbeatThrottleMs?: number;
  /** At most this many activities at once per queue (the SDK's default, 100, without it). */
  activitySlots?: number;
}

export const DEFAULT_WORKFLOW_BUNDLE = fileURLToPath(new URL('../workflow-bundle.js', import.meta.url));
const WORKFLOWS_PATH = fileURLToPath(new URL('../workflows/index.js', import.meta.url));

/** One Worker per task queue this process serves (workflows queue and/or cloud queues). */
export async function createWorkers(options: CreateWorkersOptions): Promise<Worker[]> {
  const { connection, namespace, queuePrefix, deps } = options;
  const dataConverter = options.payloadKeys && payloadDataConverter(options.payloadKeys);
  // Tells a release about its activities' retried failures (see reportFailedAttempts).
  const client = new Client({ connection, namespace, ...(dataConverter && { dataConverter }) });
  const common = {
    connection,
    namespace,
    shutdownGraceTime: options.shutdownGraceTime ?? '30s',
    // Heartbeats carry upload progress for people and deliver cancellation to the upload:
    // both should arrive within seconds, not the SDK's default of 80 % of the timeout.
    // `as const`: a Duration is ms's template-literal type once @types/ms is installed (azurite pulls it in).
    // Production raises it (IMAGECAST_HEARTBEAT_THROTTLE_SECONDS ~10): each heartbeat is an RPC to the server.
    maxHeartbeatThrottleInterval: options.heartbeatThrottleMs ?? ('2s' as const),
    // Fixed slots, so a pod's memory request and the autoscaler's target per pod (KEDA, infra/helm) hold.
    ...(options.activitySlots && { maxConcurrentActivityTaskExecutions: options.activitySlots }),
    ...(dataConverter && { dataConverter }),
    interceptors: { activity: [reportFailedAttempts(client)] },
    ...(options.identity && { identity: options.identity }),
  };
  return Promise.all(
    options.queues.map((queue) => {
      const taskQueue = queueName(queuePrefix, queue);
      if (queue === WORKFLOWS_QUEUE_SUFFIX) {
        return Worker.create({
          ...common,
          taskQueue,
          ...workflowCode(options.workflowBundle),
          activities: {
            ...createReleaseActivities({ catalog: deps.catalog, accounts: deps.accounts }),
            ...createRevokeActivities({ catalog: deps.catalog }),
            ...(deps.notifier ?? createNotifier({})),
          },
        });
      }
      const provider = deps.providers[queue];
      if (!provider) throw new Error(`no ${queue} provider is configured, so this worker cannot serve ${taskQueue}`);
      return Worker.create({ ...common, taskQueue, activities: {
          ...createCloudActivities({ provider, catalog: deps.catalog, imageTests: deps.imageTests }),
          ...createRevokeCloudActivities({ provider, catalog: deps.catalog }),
        } });
    }),
  );
}

function workflowCode(bundlePath: string | undefined) {
  const path = bundlePath ?? (existsSync(DEFAULT_WORKFLOW_BUNDLE) ? DEFAULT_WORKFLOW_BUNDLE : undefined);
  return path ? { workflowBundle: { codePath: path } } : { workflowsPath: WORKFLOWS_PATH };
}
