import type { StepName } from '../schemas/steps.js';
import type { FailurePolicy } from '../schemas/release-plan.js';
import { aborted, blockOn, type ReleaseDecisions, type RegionFailure } from './release-decisions.js';
import type { ReleaseStatusBoard } from './release-status.js';

/** Marks histories whose publish and deprecate steps block per region as replicate does. */
export const BLOCKED_UNITS_PATCH = 'blocked-publish-deprecate';

export interface RegionUnitsContext {
  board: ReleaseStatusBoard;
  report: () => void;
  decisions: ReleaseDecisions;
  policy?: FailurePolicy;
  notify?: () => Promise<void>;
}

/** What became of a step's units: which regions a decision dropped, and the decisions in words. */
export interface RegionUnitsOutcome {
  skipped: string[];
  decided: string[];
}

/**
 * Runs one unit per item (a region's copy or publish, an old image's deprecation), each with its own
 * activity and retry budget; one that fails never cancels the others. Units that failed for
 * good block the step (see blockOn) until a decision: resume runs them again, `--skip REGION`
 * drops that region's units, abort ends the release.
 */
export async function runRegionUnits<T, R>(
  ctx: RegionUnitsContext,
  step: StepName,
  items: readonly T[],
  regionOf: (item: T) => string,
  unit: (item: T) => Promise<R>,
  /** Each unit that succeeded, in the items' order after each round (the same on replay). */
  onDone: (item: T, result: R) => void = () => undefined,
): Promise<RegionUnitsOutcome> {
  const skipped: string[] = [];
  const decided: string[] = [];
  let pending = [...items];
  while (pending.length > 0) {
    const outcomes = await Promise.allSettled(pending.map(unit));
    const failed: T[] = [];
    const failures: RegionFailure[] = [];
    outcomes.forEach((outcome, i) => {
      if (outcome.status === 'fulfilled') return onDone(pending[i]!, outcome.value);
      failed.push(pending[i]!);
      // One blocked entry per region, however many of its units failed.
      if (!failures.some((f) => f.region === regionOf(pending[i]!)))
        failures.push({ region: regionOf(pending[i]!), error: outcome.reason });
    });
    if (failed.length === 0) break;
    const decision = await blockOn(ctx, step, failures);
    if (decision.kind === 'abort') throw aborted(decision, ctx.board);
    pending = failed.filter((item) => !decision.skip.includes(regionOf(item)));
    skipped.push(...decision.skip);
    const retrying = pending.length
      ? `retrying ${[...new Set(pending.map(regionOf))].join(', ')}`
      : 'nothing to retry';
    decided.push(
      `resumed by ${decision.by}: ${retrying}${decision.skip.length ? `, skipping ${decision.skip.join(', ')}` : ''}`,
    );
    ctx.board.unblock(step, decided.join('; '));
    ctx.report();
  }
  return { skipped, decided };
}

/** The step's detail with what decisions did to it. */
export function withDecisions(detail: string, outcome: RegionUnitsOutcome): string {
  if (outcome.skipped.length)
    return `${detail}; skipped ${outcome.skipped.join(', ')} (${outcome.decided.join('; ')})`;
  return outcome.decided.length ? `${detail} (${outcome.decided.join('; ')})` : detail;
}
