import { recordReleaseBlocked } from './release-metrics.js';
import {
  ActivityFailure,
  ApplicationFailure,
  condition,
  log,
  patched,
  setHandler,
  upsertMemo,
  workflowInfo,
} from '@temporalio/workflow';
import type { FailurePolicy } from '../schemas/release-plan.js';
import type { StepName } from '../schemas/steps.js';
import { describeFailure } from './describe-failure.js';
import { abortSignal, abortUpdate, resumeSignal, resumeUpdate, type DecisionOutcome } from './queries.js';
import type { ReleaseStatusBoard } from './release-status.js';

/** Marks histories whose releases block on a region failure instead of failing (issue 14). */
export const BLOCKED_REGIONS_PATCH = 'blocked-regions';
/** Marks histories whose blocked releases notify when they block and remind every block_reminder. */
export const BLOCKED_NOTIFY_PATCH = 'blocked-notify';
const DAY_MS = 86_400_000;

/** Failures that judge the image or the job: no decision can make them right, so they fail the release. */
const VERDICTS = ['InvalidJob', 'ChecksumMismatch', 'InvalidImage', 'ImageTestFailed', 'DisallowedContent'];

export type Decision = { kind: 'resume'; skip: string[]; by: string } | { kind: 'abort'; by: string };

/** A region's unit that failed for good. */
export interface RegionFailure {
  region: string;
  error: unknown;
}

/**
 * The decisions a person takes on a blocked release (`job resume`, `job resume --skip`,
 * `job abort`), as Updates (validated, answering the new state) and as Signals (the Web UI's
 * form). Installed at the start, so a decision sent to a release that is not blocked is
 * refused with that reason rather than as an unknown update.
 */
export class ReleaseDecisions {
  private pending?: Decision;

  constructor(private readonly board: ReleaseStatusBoard) {}

  install(): void {
    setHandler(resumeUpdate, (d) => this.take(resume(d)), { validator: (d) => this.check(resume(d)) });
    setHandler(abortUpdate, (d) => this.take(abort(d)), { validator: (d) => this.check(abort(d)) });
    setHandler(resumeSignal, (d) => this.offer(resume(d)));
    setHandler(abortSignal, (d) => this.offer(abort(d)));
  }

  /** Waits durably for a decision; undefined when `timeoutMs` passed without one. */
  async wait(timeoutMs: number): Promise<Decision | undefined> {
    if (!(await condition(() => this.pending !== undefined, timeoutMs))) return undefined;
    const decision = this.pending;
    this.pending = undefined;
    return decision;
  }

  /** Why a decision does not fit the release's state; undefined when it does. */
  private refusal(decision: Decision): string | undefined {
    const { state, blocked, releaseId } = this.board.status;
    if (state !== 'blocked' || !blocked) {
      const instead =
        decision.kind === 'abort' && state === 'running'
          ? `; to stop it, imagecast job cancel ${releaseId}`
          : '';
      return `release ${releaseId} is ${state}, not blocked: ${decision.kind} applies only to a blocked release${instead}`;
    }
    if (this.pending) return `a decision (${this.pending.kind} by ${this.pending.by}) was already taken`;
    if (decision.kind !== 'resume') return undefined;
    const names = blocked.regions.map((r) => r.region);
    const strangers = decision.skip.filter((r) => !names.includes(r));
    if (strangers.length)
      return `cannot skip ${strangers.join(', ')}: not blocked (blocked: ${names.join(', ')})`;
    return undefined;
  }

  private check(decision: Decision): void {
    const why = this.refusal(decision);
    if (why) throw ApplicationFailure.create({ type: 'DecisionRefused', message: why, nonRetryable: true });
  }

  private async take(decision: Decision): Promise<DecisionOutcome> {
    this.pending = decision;
    // The release takes it on its next step; answer with the state it is in then.
    await condition(() => this.pending === undefined);
    const { state, steps, error } = this.board.status;
    const replicate = steps.find((s) => s.name === 'replicate');
    return { state, detail: (state === 'failed' ? error : replicate?.detail) ?? state };
  }

  private offer(decision: Decision): void {
    const why = this.refusal(decision);
    if (why) return log.warn('decision signal ignored', { decision: decision.kind, by: decision.by, why });
    this.pending = decision;
  }
}

/**
 * Some regions of `step` failed after their retries. A verdict, the job's `on_failure: abort`
 * (or a history from before blocking) fails the release as before; anything else blocks it:
 * what was made is kept, the board says which regions and why, and the release waits for a
 * decision (or block_timeout, which applies `on_block_timeout`).
 */
export async function blockOn(
  ctx: {
    board: ReleaseStatusBoard;
    report: () => void;
    decisions: ReleaseDecisions;
    policy?: FailurePolicy;
    /** Tells people (the job's notify): the release blocked, or is still blocked. */
    notify?: () => Promise<void>;
  },
  step: StepName,
  failures: RegionFailure[],
): Promise<Decision> {
  const { board, policy } = ctx;
  const verdict = failures.find((f) => isVerdict(f.error));
  if (!patched(BLOCKED_REGIONS_PATCH) || !policy || policy.policy === 'abort' || verdict)
    throw (verdict ?? failures[0]!).error;
  const id = workflowInfo().workflowId;
  const regions = failures.map((f) => f.region);
  const timeoutMs = policy.blockTimeoutSeconds * 1000;
  board.block(step, {
    regions: failures.map((f) => ({ region: f.region, reason: describeFailure(f.error) })),
    until: new Date(Date.now() + timeoutMs).toISOString(),
    then: policy.onTimeout,
    resolve: [
      `imagecast job resume ${id}`,
      `imagecast job resume ${id} --skip ${regions.join(' ')}`,
      `imagecast job abort ${id}`,
    ],
  });
  ctx.report();
  upsertMemo({ status: board.status });
  recordReleaseBlocked(board.status.cloud, step);
  const decision = patched(BLOCKED_NOTIFY_PATCH)
    ? await waitReminding(ctx, timeoutMs, (policy.remindEverySeconds ?? DAY_MS / 1000) * 1000)
    : await ctx.decisions.wait(timeoutMs);
  if (decision) return decision;
  const by = `block_timeout (${policy.blockTimeoutSeconds} s)`;
  return policy.onTimeout === 'skip' ? { kind: 'resume', skip: regions, by } : { kind: 'abort', by };
}

/**
 * Waits for a decision up to `timeoutMs`, telling people when the release blocks and again
 * every `remindMs` while it stays blocked: nobody should learn of a block a week later,
 * from its timeout.
 */
async function waitReminding(
  ctx: {
    board: ReleaseStatusBoard;
    report: () => void;
    decisions: ReleaseDecisions;
    notify?: () => Promise<void>;
  },
  timeoutMs: number,
  remindMs: number,
): Promise<Decision | undefined> {
  await ctx.notify?.();
  const end = Date.now() + timeoutMs;
  for (;;) {
    const decision = await ctx.decisions.wait(Math.min(remindMs, end - Date.now()));
    if (decision || Date.now() >= end) return decision;
    const blocked = ctx.board.status.blocked;
    if (blocked) blocked.reminders = (blocked.reminders ?? 0) + 1;
    ctx.report();
    await ctx.notify?.();
  }
}

/** The failure that ends a release a person (or block_timeout) aborted; the saga then removes what it made. */
export function aborted(
  decision: Extract<Decision, { kind: 'abort' }>,
  board: ReleaseStatusBoard,
): ApplicationFailure {
  const regions = board.status.blocked?.regions.map((r) => `${r.region} (${r.reason})`).join('; ') ?? '';
  return ApplicationFailure.create({
    type: 'ReleaseAborted',
    nonRetryable: true,
    message: `aborted by ${decision.by} while blocked on ${regions}`,
  });
}

function isVerdict(error: unknown): boolean {
  const cause = error instanceof ActivityFailure ? error.cause : error;
  return cause instanceof ApplicationFailure && VERDICTS.includes(cause.type ?? '');
}

function resume(d: { skip?: string[]; by?: string } | undefined): Decision {
  return { kind: 'resume', skip: [...new Set(d?.skip ?? [])], by: d?.by || 'someone (no name given)' };
}

function abort(d: { by?: string } | undefined): Decision {
  return { kind: 'abort', by: d?.by || 'someone (no name given)' };
}
