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
  ServiceError,
  WorkflowExecutionAlreadyStartedError,
  WorkflowNotFoundError,
  WorkflowUpdateFailedError,
  type WorkflowExecutionDescription,
} from '@temporalio/client';
import { InvalidJobError, deterministicReleaseId, parseJob, type ReleaseJob } from '../../schemas/job/index.js';
import { queueName, WORKFLOWS_QUEUE_SUFFIX, type CloudName } from '../../schemas/steps.js';
import { temporalConfigSchema, temporalConnectionOptions, type TemporalConfig } from '../../schemas/config.js';
import type { ReleaseStatus } from '../../workflows/release-status.js';
import { payloadDataConverter } from '../../infra/codec/data-converter.js';
import type { PayloadKeys } from '../../infra/codec/payload-keys.js';
import type { releaseImage } from '../../workflows/release-image.js';
import type { PinnedBuild } from '../../workflows/account-releases.js';
import type { preflightRelease, PreflightResult } from '../../workflows/preflight.js';
import { randomUUID } from 'node:crypto';
import { abortUpdate, buildQuery, resumeUpdate, statusQuery, type DecisionOutcome } from '../../workflows/queries.js';
import { defaultPayloadConverter, type Payload, type PayloadCodec } from '@temporalio/common';
import { AesGcmPayloadCodec } from '../../infra/codec/aes-gcm-codec.js';
import {
  listReleases,
  releaseLog,
  withLiveAttempts,
  type ActivityAttempt,
  type ReleaseFilter,
  type ReleaseSummary,
} from './release-insight.js';
import { pendingActivitiesOf, workerProblems, type PendingActivity, type WorkerProblem } from './release-health.js';
import { fillTaskQueues, inspectRelease } from './release-inspection.js';
import { releaseStartMetadata } from './start-metadata.js';
import type { ReleaseInspection, StartedRelease, WaitOptions } from './types.js';
import {
  DecisionRefusedError,
  ReleaseAlreadyRunningError,
  ReleaseEndedError,
  ReleaseStartRefusedError,
  ReleaseStillRunningError,
  RevokeRefusedError,
  serverReason,
  UnknownReleaseError,
  WaitTimeoutError,
} from './errors.js';
import { RetirementSchedules } from './schedules.js';
import { ImageListRenewal } from './imagelist-renewal.js';
import { revokeResult, startRevoke, type RevokeOptions, type RevokeOutcome } from './revocations.js';

export type { BlockedRegion, BlockedState, ReleaseStatus, StepStatus } from '../../workflows/release-status.js';
export type { DecisionOutcome } from '../../workflows/queries.js';
export type { ReleaseJob } from '../../schemas/job/index.js';
export { InvalidJobError } from '../../schemas/job/index.js';
export { ImagecastGateway, GatewayError } from './gateway-client.js';
export { CiIdTokenError, GITLAB_TOKEN_VARIABLE, type OidcSource } from './ci-id-token.js';
export type { ImagecastGatewayOptions } from './gateway-client.js';
export { InvalidScheduleError, type RetirementSchedule } from './schedules.js';
export type { ActivityAttempt, ReleaseFilter, ReleaseSummary } from './release-insight.js';
export { describeAttempt, type PendingActivity, type WorkerProblem } from './release-health.js';
export { releaseStartMetadata, releaseSummary } from './start-metadata.js';
export * from './errors.js';
// Encrypted payloads: the same keys the workers have (deep imports are closed by package exports).
export { payloadKeysFromEnv, type PayloadKeys } from '../../infra/codec/payload-keys.js';
export type { ReleaseInspection, StartedRelease, WaitOptions } from './types.js';
export type { RetirementResult } from '../../workflows/deprecate-images.js';
export type { PreflightResult } from '../../workflows/preflight.js';
export type { PreflightProblem } from '../../schemas/preflight.js';
export type { BuildWatchResult } from '../../workflows/release-new-builds.js';
export type { ImageListRenewalResult } from '../../workflows/renew-image-lists.js';
export { IMAGELIST_RENEWAL_SCHEDULE_ID } from './imagelist-renewal.js';
export { revokeIdOf, type RevokeOptions, type RevokeOutcome, type RevokeResult } from './revocations.js';

/** How long a status query may wait for a worker's answer. */
const QUERY_DEADLINE_MS = 30_000;

/** How often `waitForRelease` asks whether the queues it waits on have workers. */
const WORKER_CHECK_MS = 10_000;
/** A retry remembers this many earlier runs whose leftovers it may adopt (each retry of a retry adds one). */
const MAX_EARLIER_RUNS = 10;

export class ImagecastClient {
  /** Scheduled retirement of old images (`deprecateImages` on a Temporal Schedule). */
  readonly schedules: RetirementSchedules;
  /** Renewal of the signed image lists: now, or by the `imagelist-renewal` schedule. */
  readonly imageListRenewal: ImageListRenewal;

  private constructor(
    readonly temporal: Client,
    private readonly config: TemporalConfig,
    private readonly codec?: PayloadCodec,
  ) {
    this.schedules = new RetirementSchedules(temporal, config.queuePrefix);
    this.imageListRenewal = new ImageListRenewal(temporal, config.queuePrefix, this.schedules);
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
    try {
      const handle = await this.temporal.workflow.start<typeof releaseImage>('releaseImage', {
        workflowId: releaseId,
        taskQueue: queueName(this.config.queuePrefix, WORKFLOWS_QUEUE_SUFFIX),
        args: [validJob as unknown as Record<string, unknown>],
        ...releaseStartMetadata(validJob, date),
      });
      return { releaseId, runId: handle.firstExecutionRunId };
    } catch (error) {
      if (error instanceof WorkflowExecutionAlreadyStartedError) throw new ReleaseAlreadyRunningError(releaseId);
      throw refusedStart(releaseId, error);
    }
  }

  /**
   * Preflight without a release: the workers check the job's accounts (credentials, regions
   * enabled, the image name free, public sharing possible) and every problem is returned.
   * Throws InvalidJobError for an invalid job; a build that cannot be found fails the run.
   */
  async preflight(job: unknown, options: { cloud?: CloudName; timeoutMs?: number } = {}): Promise<PreflightResult> {
    const parsed = parseJob(job, options.cloud);
    if (!parsed.ok) throw new InvalidJobError(parsed.issues);
    return this.temporal.workflow.execute<typeof preflightRelease>('preflightRelease', {
      workflowId: `preflight/${randomUUID()}`,
      taskQueue: queueName(this.config.queuePrefix, WORKFLOWS_QUEUE_SUFFIX),
      args: [parsed.job as unknown as Record<string, unknown>],
      // No worker on a cloud queue would make it wait for ever: a preflight is minutes at most.
      workflowExecutionTimeout: options.timeoutMs ?? 10 * 60_000,
      staticSummary: `preflight of ${parsed.job.cloud} job ${parsed.job.cloud_image_name}`,
    });
  }

  /** The step table: live from the workflow while it runs, from its memo once it has ended. */
  async getRelease(releaseId: string): Promise<ReleaseStatus> {
    const description = await this.describe(releaseId);
    if (description.status.name === 'RUNNING') {
      // A query waits for a worker to answer: bounded, so a stuck worker cannot hold a caller forever.
      return this.temporal.connection.withDeadline(Date.now() + QUERY_DEADLINE_MS, () =>
        this.temporal.workflow.getHandle(releaseId).query(statusQuery),
      );
    }
    const status = description.memo?.status as ReleaseStatus | undefined;
    if (status) return status;
    throw new Error(`release ${releaseId} ended (${description.status.name}) before it recorded a status`);
  }

  /**
   * Everything `job status` shows, even when no worker can answer the status query: what the
   * workflow last reported (search attributes), the live attempt and last failure of each
   * pending activity, and which queues have no worker.
   */
  async inspectRelease(releaseId: string): Promise<ReleaseInspection> {
    return inspectRelease(this.temporal, await this.describe(releaseId), this.config.queuePrefix, this.codec);
  }

  /**
   * Follows a release until it succeeds, fails or is cancelled; returns the final status.
   * Says (onWorkerProblem) when a queue it waits on has no worker, and gives up after
   * `timeoutMs` (WaitTimeoutError) if one is given.
   */
  async waitForRelease(releaseId: string, options: WaitOptions = {}): Promise<ReleaseStatus> {
    const interval = options.pollIntervalMs ?? 1000;
    const deadline = options.timeoutMs === undefined ? Infinity : Date.now() + options.timeoutMs;
    let last = '';
    let lastState: string | undefined;
    let lastProblems = '[]';
    let nextWorkerCheck = 0;
    for (;;) {
      const status = await this.getRelease(releaseId).catch((error: unknown) => {
        // Right after start the first workflow task may not have run yet: ask again.
        if (error instanceof UnknownReleaseError) throw error;
        return undefined;
      });
      if (status) {
        lastState = status.state;
        const fingerprint = JSON.stringify(status);
        if (fingerprint !== last) options.onProgress?.(status);
        last = fingerprint;
        // Blocked: it waits for a person's decision (job resume / abort), which may take days.
        if (status.state === 'blocked') return status;
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
      if (options.onWorkerProblem && Date.now() >= nextWorkerCheck) {
        nextWorkerCheck = Date.now() + WORKER_CHECK_MS;
        const problems = await this.workerProblemsOf(releaseId).catch(() => []);
        if (JSON.stringify(problems) !== lastProblems && (problems.length || lastProblems !== '[]')) options.onWorkerProblem(problems);
        lastProblems = JSON.stringify(problems);
      }
      if (Date.now() + interval > deadline) throw new WaitTimeoutError(releaseId, options.timeoutMs!, lastState);
      await new Promise((resolve) => setTimeout(resolve, interval));
    }
  }

  /** Releases by search attributes (cloud, state, image name prefix, start time), newest first. */
  listReleases(filter: ReleaseFilter = {}): Promise<ReleaseSummary[]> {
    return listReleases(this.temporal, filter);
  }

  /** Every activity attempt of the release's latest run, with outcomes and errors; a running one with its live attempt. */
  async releaseLog(releaseId: string): Promise<ActivityAttempt[]> {
    const description = await this.describe(releaseId);
    return withLiveAttempts(await releaseLog(this.temporal, releaseId), await pendingActivitiesOf(description, this.codec));
  }

  /** The activities running now: live attempt, last failure, last heartbeat (upload: percent, bytes sent). */
  async runningActivities(releaseId: string): Promise<PendingActivity[]> {
    return pendingActivitiesOf(await this.describe(releaseId), this.codec);
  }

  /**
   * Runs a failed or cancelled release again with the same job and the same build its failed
   * run chose (not a newer one published since). What the earlier runs left intact (a
   * terminated run, a cleanup that failed: the uploaded disk, images of that name and build)
   * is adopted instead of made again, and the status says what was reused from which run;
   * everything else runs again (each step is idempotent, so nothing is made twice).
   */
  async retryRelease(releaseId: string): Promise<StartedRelease> {
    const handle = this.temporal.workflow.getHandle(releaseId);
    const description = await this.describe(releaseId);
    const state = description.status.name;
    if (state === 'RUNNING') throw new ReleaseStillRunningError(releaseId);
    if (state === 'COMPLETED') throw new ReleaseEndedError(releaseId, state, 'succeeded', 'retry');
    const history = await handle.fetchHistory();
    const input = history.events?.[0]?.workflowExecutionStartedEventAttributes?.input?.payloads as Payload[] | undefined;
    const decoded = this.codec ? await this.codec.decode(input ?? []) : (input ?? []);
    const job = decoded[0] && defaultPayloadConverter.fromPayload<Record<string, unknown>>(decoded[0]);
    // That run may itself have been a retry: its leftovers, and its own earlier runs', are adoptable.
    const earlierPin = decoded[1] && defaultPayloadConverter.fromPayload<PinnedBuild | undefined>(decoded[1]);
    const earlierRuns = [description.runId, ...(earlierPin?.earlierRuns ?? [])].slice(0, MAX_EARLIER_RUNS);
    if (!job) throw new Error(`release ${releaseId} has no job document in its history`);
    // A closed workflow still answers queries (a worker replays it): which build did it choose?
    const build = await handle.query(buildQuery).catch(() => undefined);
    const date = description.startTime.toISOString().slice(0, 10).replace(/-/g, '');
    try {
      const started = await this.temporal.workflow.start<typeof releaseImage>('releaseImage', {
        workflowId: releaseId,
        taskQueue: description.taskQueue,
        args: build
          ? [job, { parentReleaseId: releaseId, chosenBy: `the failed run ${description.runId}`, ...build, earlierRuns }]
          : [job],
        ...releaseStartMetadata(job, date, [`**retry of** run ${description.runId} (${state.toLowerCase()})`]),
      });
      return { releaseId, runId: started.firstExecutionRunId };
    } catch (error) {
      throw refusedStart(releaseId, error);
    }
  }

  /** Asks a running release to cancel (its saga removes what it made); a release that has ended says so. */
  async cancelRelease(releaseId: string): Promise<void> {
    const ended = (d: WorkflowExecutionDescription) =>
      new ReleaseEndedError(releaseId, d.status.name, (d.memo?.status as ReleaseStatus | undefined)?.state, 'cancel');
    const description = await this.describe(releaseId);
    if (description.status.name !== 'RUNNING') throw ended(description);
    try {
      await this.temporal.workflow.getHandle(releaseId).cancel();
    } catch (error) {
      // It ended between the two calls.
      if (error instanceof WorkflowNotFoundError) throw ended(await this.describe(releaseId));
      throw error;
    }
  }

  /**
   * A blocked release: retry its blocked regions now; those in `skip` are dropped (it
   * finishes without them and says so). Answers the state the release is in once it took
   * the decision; a release that is not blocked, or a region that is not, is refused
   * (DecisionRefusedError with the release's reason).
   */
  async resumeRelease(releaseId: string, options: { skip?: string[]; by?: string } = {}): Promise<DecisionOutcome> {
    const decision = options.skip?.length ? `resume --skip ${options.skip.join(' ')}` : 'resume';
    return this.decide(releaseId, decision, (handle) =>
      handle.executeUpdate(resumeUpdate, { args: [{ skip: options.skip ?? [], ...(options.by && { by: options.by }) }] }),
    );
  }

  /** A blocked release: remove what it made and fail (its saga), recording who aborted. */
  async abortRelease(releaseId: string, options: { by?: string } = {}): Promise<DecisionOutcome> {
    return this.decide(releaseId, 'abort', (handle) => handle.executeUpdate(abortUpdate, { args: [{ ...(options.by && { by: options.by }) }] }));
  }

  private async decide(
    releaseId: string,
    decision: string,
    send: (handle: ReturnType<Client['workflow']['getHandle']>) => Promise<DecisionOutcome>,
  ): Promise<DecisionOutcome> {
    const description = await this.describe(releaseId);
    const ended = (d: WorkflowExecutionDescription) =>
      new ReleaseEndedError(releaseId, d.status.name, (d.memo?.status as ReleaseStatus | undefined)?.state, decision);
    if (description.status.name !== 'RUNNING') throw ended(description);
    try {
      return await send(this.temporal.workflow.getHandle(releaseId));
    } catch (error) {
      if (error instanceof WorkflowUpdateFailedError) {
        const cause = error.cause as { message?: string } | undefined;
        throw new DecisionRefusedError(releaseId, decision, cause?.message ?? error.message);
      }
      if (error instanceof WorkflowNotFoundError) throw ended(await this.describe(releaseId));
      throw error;
    }
  }

  /**
   * Revokes a finished release: in every account and region its images are unshared and
   * deprecated now, and the images it had replaced are current again (`revokeRelease`
   * workflow, id `revoke-<releaseId>`). Waits until the revoke ends, or blocks on a region
   * (then `resumeRelease`/`abortRelease` on `revokeId` decide). A second revoke reports the
   * release already revoked. Refusals (still running, nothing published, a cloud that cannot
   * revoke) throw RevokeRefusedError with the reason.
   */
  async revokeRelease(releaseId: string, options: RevokeOptions & Pick<WaitOptions, 'onProgress' | 'pollIntervalMs'> = {}): Promise<RevokeOutcome> {
    const described = await this.describe(releaseId).catch((error: unknown) => {
      if (error instanceof UnknownReleaseError) return undefined;
      throw error;
    });
    const queue = queueName(this.config.queuePrefix, WORKFLOWS_QUEUE_SUFFIX);
    const revokeId = await startRevoke(this.temporal, queue, described, releaseId, options, this.codec);
    const status = await this.waitForRelease(revokeId, { pollIntervalMs: options.pollIntervalMs ?? 500, onProgress: options.onProgress });
    if (status.state === 'blocked') return { revokeId, status };
    try {
      return { revokeId, status, result: await revokeResult(this.temporal, releaseId, revokeId) };
    } catch (error) {
      if (error instanceof RevokeRefusedError) throw error;
      return { revokeId, status }; // failed or aborted: the status says why
    }
  }

  async close(): Promise<void> {
    await this.temporal.connection.close();
  }

  /** describe(), with "no such release" as a named error. */
  private async describe(releaseId: string): Promise<WorkflowExecutionDescription> {
    try {
      return await this.temporal.workflow.getHandle(releaseId).describe();
    } catch (error) {
      if (error instanceof WorkflowNotFoundError) throw new UnknownReleaseError(releaseId, this.config.namespace);
      throw error;
    }
  }

  private async workerProblemsOf(releaseId: string): Promise<WorkerProblem[]> {
    const description = await this.describe(releaseId);
    const pending = await pendingActivitiesOf(description, this.codec);
    await fillTaskQueues(this.temporal, releaseId, pending);
    return workerProblems(this.temporal, description, pending, this.config.queuePrefix);
  }
}

/** The server refused the start: its reason, not the SDK's "Failed to start Workflow". */
function refusedStart(releaseId: string, error: unknown): unknown {
  if (!(error instanceof ServiceError)) return error;
  const { reason, grpcCode } = serverReason(error);
  return new ReleaseStartRefusedError(releaseId, reason, grpcCode);
}
