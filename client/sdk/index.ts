/**
 * The typed SDK CI imports to release images: validate locally, start the release on
 * Temporal, follow it, cancel it. Carries job documents and account names, never secrets.
 *
 *   const imagecast = await ImagecastClient.connect({ address: '127.0.0.1:7233' });
 *   const { releaseId } = await imagecast.startRelease(job);
 *   const status = await imagecast.waitForRelease(releaseId, { onProgress: (s) => console.log(s.currentStep) });
 */
import {
  Client,
  Connection,
  WorkflowExecutionAlreadyStartedError,
  WorkflowNotFoundError,
} from '@temporalio/client';
import {
  InvalidJobError,
  deterministicReleaseId,
  expandImageName,
  parseJob,
  type ReleaseJob,
} from '../../schemas/job/index.js';
import { searchAttributeKeys as keys } from '../../schemas/search-attributes.js';
import { queueName, WORKFLOWS_QUEUE_SUFFIX, type CloudName } from '../../schemas/steps.js';
import { temporalConfigSchema, temporalConnectionOptions, type TemporalConfig } from '../../schemas/config.js';
import type { ReleaseStatus } from '../../workflows/release-status.js';
import { payloadDataConverter } from '../../infra/codec/data-converter.js';
import type { PayloadKeys } from '../../infra/codec/payload-keys.js';
import type { releaseImage } from '../../workflows/release-image.js';
import { buildQuery, statusQuery } from '../../workflows/queries.js';
import { defaultPayloadConverter, type Payload, type PayloadCodec } from '@temporalio/common';
import { AesGcmPayloadCodec } from '../../infra/codec/aes-gcm-codec.js';
import {
  listReleases,
  pendingActivities,
  releaseLog,
  type ActivityAttempt,
  type PendingActivity,
  type ReleaseFilter,
  type ReleaseSummary,
} from './release-insight.js';
import { RetirementSchedules } from './schedules.js';

export type { ReleaseStatus, StepStatus } from '../../workflows/release-status.js';
export type { ReleaseJob } from '../../schemas/job/index.js';
export { InvalidJobError } from '../../schemas/job/index.js';
export { ImagecastGateway, GatewayError } from './gateway-client.js';
export { InvalidScheduleError, type RetirementSchedule } from './schedules.js';
export type { ActivityAttempt, PendingActivity, ReleaseFilter, ReleaseSummary } from './release-insight.js';
export type { RetirementResult } from '../../workflows/deprecate-images.js';
export type { BuildWatchResult } from '../../workflows/release-new-builds.js';

/** Thrown when a release of the same image line and account is already running today. */
export class ReleaseAlreadyRunningError extends Error {
  constructor(readonly releaseId: string) {
    super(
      `a release with id "${releaseId}" is already running: wait for it or cancel it (imagecast job cancel ${releaseId})`,
    );
    this.name = 'ReleaseAlreadyRunningError';
  }
}

export interface StartedRelease {
  releaseId: string;
  runId: string;
}

export interface WaitOptions {
  /** Called whenever the step table changes. */
  onProgress?: (status: ReleaseStatus) => void;
  pollIntervalMs?: number;
}

export class ImagecastClient {
  /** Scheduled retirement of old images (`deprecateImages` on a Temporal Schedule). */
  readonly schedules: RetirementSchedules;

  private constructor(
    readonly temporal: Client,
    private readonly config: TemporalConfig,
    private readonly codec?: PayloadCodec,
  ) {
    this.schedules = new RetirementSchedules(temporal, config.queuePrefix);
  }

  /**
   * `payloadKeys` (the same keys the workers have, e.g. from `payloadKeysFromEnv()`) encrypt
   * the job documents this client sends and decrypt the results it reads.
   */
  static async connect(options: Partial<TemporalConfig> & { payloadKeys?: PayloadKeys } = {}): Promise<ImagecastClient> {
    const { payloadKeys, ...temporal } = options;
    const config = temporalConfigSchema.parse(temporal);
    const connection = await Connection.connect(temporalConnectionOptions(config));
    return new ImagecastClient(
      new Client({ connection, namespace: config.namespace, dataConverter: payloadDataConverter(payloadKeys) }),
      config,
      payloadKeys && new AesGcmPayloadCodec(payloadKeys),
    );
  }

  /** Validates the job (throws InvalidJobError listing every problem), then starts its release. */
  async startRelease(job: unknown, options: { cloud?: CloudName } = {}): Promise<StartedRelease> {
    const parsed = parseJob(job, options.cloud);
    if (!parsed.ok) throw new InvalidJobError(parsed.issues);
    const validJob: ReleaseJob = parsed.job;
    if (validJob.utctime === 'always') {
      throw new InvalidJobError([
        { path: '$.utctime', message: '"always" releases every new build: create its schedule with schedules.watchBuilds(job, { every }) (imagecast job add does)' },
      ]);
    }
    const date = new Date().toISOString().slice(0, 10).replace(/-/g, '');
    const releaseId = deterministicReleaseId(validJob, date);
    const account = 'cloud_account' in validJob ? String(validJob.cloud_account) : '';
    try {
      const handle = await this.temporal.workflow.start<typeof releaseImage>('releaseImage', {
        workflowId: releaseId,
        taskQueue: queueName(this.config.queuePrefix, WORKFLOWS_QUEUE_SUFFIX),
        args: [validJob as unknown as Record<string, unknown>],
        // The Web UI's list and the workflow page show this line for the release.
        staticSummary: `Release ${expandImageName(validJob.cloud_image_name, { date })} to ${validJob.cloud}${account ? `/${account}` : ''} (last step: ${validJob.last_service})`,
        typedSearchAttributes: [
          { key: keys.cloud, value: validJob.cloud },
          { key: keys.account, value: account },
          { key: keys.imageName, value: expandImageName(validJob.cloud_image_name, { date }) },
          { key: keys.releaseStatus, value: 'running' },
          { key: keys.releaseStep, value: 'download' },
        ],
      });
      return { releaseId, runId: handle.firstExecutionRunId };
    } catch (error) {
      if (error instanceof WorkflowExecutionAlreadyStartedError)
        throw new ReleaseAlreadyRunningError(releaseId);
      throw error;
    }
  }

  /** The step table: live from the workflow while it runs, from its memo once it has ended. */
  async getRelease(releaseId: string): Promise<ReleaseStatus> {
    const handle = this.temporal.workflow.getHandle(releaseId);
    const description = await handle.describe();
    if (description.status.name === 'RUNNING') return handle.query(statusQuery);
    const status = description.memo?.status as ReleaseStatus | undefined;
    if (status) return status;
    throw new Error(`release ${releaseId} ended (${description.status.name}) before it recorded a status`);
  }

  /** Follows a release until it succeeds, fails or is cancelled; returns the final status. */
  async waitForRelease(releaseId: string, options: WaitOptions = {}): Promise<ReleaseStatus> {
    const interval = options.pollIntervalMs ?? 1000;
    let last = '';
    for (;;) {
      const status = await this.getRelease(releaseId).catch((error: unknown) => {
        // Right after start the first workflow task may not have run yet: ask again.
        if (error instanceof WorkflowNotFoundError) throw error;
        return undefined;
      });
      if (status) {
        const fingerprint = JSON.stringify(status);
        if (fingerprint !== last) options.onProgress?.(status);
        last = fingerprint;
        if (status.state !== 'running' && status.state !== 'waiting') {
          // A failed release is marked failed before its cleanup (the saga) has run: wait
          // for the workflow to close, so "failed" also means "nothing half-made is left".
          await this.temporal.workflow
            .getHandle(releaseId)
            .result()
            .catch(() => undefined);
          return this.getRelease(releaseId);
        }
      }
      await new Promise((resolve) => setTimeout(resolve, interval));
    }
  }

  /** Releases by search attributes (cloud, state, image name prefix, start time), newest first. */
  listReleases(filter: ReleaseFilter = {}): Promise<ReleaseSummary[]> {
    return listReleases(this.temporal, filter);
  }

  /** Every activity attempt of the release's latest run, with outcomes and errors. */
  releaseLog(releaseId: string): Promise<ActivityAttempt[]> {
    return releaseLog(this.temporal, releaseId);
  }

  /** The activities running now with their last heartbeat (upload: percent, bytes sent). */
  runningActivities(releaseId: string): Promise<PendingActivity[]> {
    return pendingActivities(this.temporal, releaseId, this.codec);
  }

  /**
   * Runs a failed or cancelled release again with the same job and the same build its failed
   * run chose (not a newer one published since). The failed run's saga removed what it made,
   * so every step runs again; its activities are idempotent, so nothing is made twice.
   */
  async retryRelease(releaseId: string): Promise<StartedRelease> {
    const handle = this.temporal.workflow.getHandle(releaseId);
    const description = await handle.describe();
    const state = description.status.name;
    if (state === 'RUNNING') throw new Error(`release ${releaseId} is still running: nothing to retry`);
    if (state === 'COMPLETED') throw new Error(`release ${releaseId} succeeded: nothing to retry`);
    const history = await handle.fetchHistory();
    const input = history.events?.[0]?.workflowExecutionStartedEventAttributes?.input?.payloads as Payload[] | undefined;
    const decoded = this.codec ? await this.codec.decode(input ?? []) : (input ?? []);
    const job = decoded[0] && defaultPayloadConverter.fromPayload<Record<string, unknown>>(decoded[0]);
    if (!job) throw new Error(`release ${releaseId} has no job document in its history`);
    // A closed workflow still answers queries (a worker replays it): which build did it choose?
    const build = await handle.query(buildQuery).catch(() => undefined);
    const started = await this.temporal.workflow.start<typeof releaseImage>('releaseImage', {
      workflowId: releaseId,
      taskQueue: description.taskQueue,
      args: build
        ? [job, { parentReleaseId: releaseId, chosenBy: `the failed run ${description.runId}`, ...build }]
        : [job],
      typedSearchAttributes: description.typedSearchAttributes.updateCopy([
        { key: keys.releaseStatus, value: 'running' },
        { key: keys.releaseStep, value: 'download' },
      ]),
    });
    return { releaseId, runId: started.firstExecutionRunId };
  }

  async cancelRelease(releaseId: string): Promise<void> {
    await this.temporal.workflow.getHandle(releaseId).cancel();
  }

  async close(): Promise<void> {
    await this.temporal.connection.close();
  }
}
