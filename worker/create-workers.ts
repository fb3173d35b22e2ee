import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Client } from '@temporalio/client';
import { NativeConnection, Worker, type WorkerOptions } from '@temporalio/worker';
import type { CloudName } from '../schemas/steps.js';
import { servedTaskQueues, type WorkerQueue } from '../schemas/worker-queues.js';
import type { CloudProvider } from '../activities/provider.js';
import type { ImageCatalog } from '../activities/common/catalog/catalog.js';
import { createCloudActivities } from '../activities/cloud-activities.js';
import { createRawUploadActivities } from '../activities/common/raw-upload/raw-upload-activity.js';
import type { TestImageSettings } from '../activities/common/image-tests/test-image.js';
import { createReleaseActivities } from '../activities/common/release-activities.js';
import {
  createImageListActivities,
  type ImageListActivityDeps,
} from '../activities/common/imagelist/release-list-activities.js';
import { createRevokeActivities, createRevokeCloudActivities } from '../activities/revoke-activities.js';
import { createRevokeListActivities } from '../activities/common/imagelist/revoke-list-activities.js';
import { createNotifier, type ReleaseNotifier } from '../activities/common/notify/notifier.js';
import {
  createImageListRenewalActivities,
  type ImageListRenewalDeps,
} from '../activities/common/imagelist/renew-lists.js';
import type { AccountDirectory } from '../activities/accounts/account-directory.js';
import { useS3SourceAccounts } from '../activities/common/download/s3-source.js';
import { payloadDataConverter } from '../infra/codec/data-converter.js';
import { reportFailedAttempts } from './report-failed-attempts.js';
import type { PayloadKeys } from '../infra/codec/payload-keys.js';
import { tracingActivityInterceptors, tracingSinks, type Tracing } from './tracing.js';
import { WORKFLOW_TRACING_MODULE } from './tracing-module.js';
import { deploymentOptions, type WorkerVersion } from './deployment-versioning.js';

export interface WorkerDeps {
  catalog: ImageCatalog;
  /** Account names → regions (planning) and credentials (cloud activities). */
  accounts?: AccountDirectory;
  providers: Partial<Record<CloudName, CloudProvider>>;
  /** The test step's limits (how long an instance may take to boot). */
  imageTests?: TestImageSettings;
  /** Sends end-of-release notifications (SMTP, webhooks); without one, only webhook-less, email-less jobs notify. */
  notifier?: ReleaseNotifier;
  /** Renewal of the signed image lists (workflow renewImageLists); without it, renewal runs fail naming what is missing. */
  imageListRenewal?: ImageListRenewalDeps;
  /** IMAGECAST_AWS_ENDPOINT: where download_type "S3" sources are read (with `accounts`' EC2 keys), when not AWS itself. */
  awsEndpoint?: string;
  /** Stored image lists, their endorsers' keys and upload targets (job field image_lists); without them such jobs are refused. */
  imageLists?: ImageListActivityDeps;
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
  /** At most this many activities at once per queue, upload queues excepted (the SDK's default, 100, without it). */
  activitySlots?: number;
  /** OpenTelemetry export of the release's spans (worker/tracing.ts); without it spans are dropped. */
  tracing?: Tracing;
  /** Worker Deployment Versioning (worker/deployment-versioning.ts); without it the worker is unversioned. */
  workerVersion?: WorkerVersion;
  /** At most this many uploads at once per `<cloud>-upload` queue (the SDK's default without it). */
  uploadSlots?: number;
}

export const DEFAULT_WORKFLOW_BUNDLE = fileURLToPath(new URL('../workflow-bundle.js', import.meta.url));
const WORKFLOWS_PATH = fileURLToPath(new URL('../workflows/index.js', import.meta.url));

/**
 * One Worker per task queue this process serves: the workflows queue, a cloud's calls queue,
 * a cloud's upload queue (`ec2` alone serves both of that cloud's). Each has its own slots.
 */
export async function createWorkers(options: CreateWorkersOptions): Promise<Worker[]> {
  const { connection, namespace, queuePrefix, deps } = options;
  // Any queue may read an S3 source: the workflows queue resolves it, every cloud's upload streams it.
  if (deps.accounts) useS3SourceAccounts({ accounts: deps.accounts, endpoint: deps.awsEndpoint });
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
    ...(dataConverter && { dataConverter }),
    interceptors: {
      activity: [reportFailedAttempts(client), ...tracingActivityInterceptors(options.tracing)],
    },
    sinks: tracingSinks(options.tracing),
    ...deploymentOptions(options.workerVersion),
    ...(options.identity && { identity: options.identity }),
  };
  // Fixed slots, so a pod's memory request and the autoscaler's target per pod (KEDA, infra/helm) hold.
  const slots = (n: number | undefined) => (n ? { maxConcurrentActivityTaskExecutions: n } : {});
  return Promise.all(
    servedTaskQueues(options.queues).map(({ suffix, role, cloud }) => {
      const taskQueue = `${queuePrefix}${suffix}`;
      if (role === 'workflows') {
        return Worker.create({
          ...common,
          ...slots(options.activitySlots),
          taskQueue,
          ...workflowCode(options.workflowBundle),
          // Used when bundling at start (no prebuilt bundle): the same tracing interceptors
          // infra/bundle-workflows.ts puts in the bundle, so both run the same workflow code.
          interceptors: { ...common.interceptors, workflowModules: [WORKFLOW_TRACING_MODULE] },
          activities: {
            ...createReleaseActivities({ catalog: deps.catalog, accounts: deps.accounts }),
            ...createRevokeActivities({ catalog: deps.catalog }),
            ...createImageListActivities(deps.imageLists),
            ...createRevokeListActivities(deps.imageLists),
            ...(deps.notifier ?? createNotifier({})),
            ...createImageListRenewalActivities(deps.imageListRenewal),
          },
        });
      }
      const provider = deps.providers[cloud!];
      if (!provider)
        throw new Error(`no ${cloud} provider is configured, so this worker cannot serve ${taskQueue}`);
      // The upload queue registers the same activities: the workflow decides what runs where.
      return Worker.create({
        ...common,
        ...slots(role === 'upload' ? options.uploadSlots : options.activitySlots),
        taskQueue,
        activities: {
          ...createCloudActivities({ provider, catalog: deps.catalog, imageTests: deps.imageTests }),
          ...createRawUploadActivities({ provider }),
          ...createRevokeCloudActivities({ provider, catalog: deps.catalog }),
        },
      });
    }),
  );
}

function workflowCode(bundlePath: string | undefined) {
  const path = bundlePath ?? (existsSync(DEFAULT_WORKFLOW_BUNDLE) ? DEFAULT_WORKFLOW_BUNDLE : undefined);
  return path ? { workflowBundle: { codePath: path } } : { workflowsPath: WORKFLOWS_PATH };
}
