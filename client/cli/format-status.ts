import { describeAttempt, type ActivityAttempt, type PendingActivity, type ReleaseStatus } from '../sdk/index.js';
import { testVerdict } from '../../workflows/release-status.js';

/** Which step each activity belongs to, for the attempts column. */
const STEP_OF_ACTIVITY: Record<string, string> = {
  planRelease: 'download',
  resolveSource: 'download',
  uploadImage: 'upload',
  createImage: 'create',
  testImage: 'test',
  replicateImage: 'replicate',
  publishImage: 'publish',
  activateRelease: 'publish',
  findReplacedImages: 'deprecate',
  findImagesByName: 'deprecate',
  deprecateImage: 'deprecate',
  deleteDisk: 'cleanup',
};

/**
 * Attempts per step: the most any one of its activities needed (1 when all went through at
 * once). A running activity counts with its live attempt (the pending activities), which
 * the history does not know until that attempt ends.
 */
export function attemptsPerStep(log: ActivityAttempt[], pending: PendingActivity[] = []): Record<string, number> {
  const attempts: Record<string, number> = {};
  for (const a of [...log, ...pending]) {
    const step = STEP_OF_ACTIVITY[a.activity];
    if (step) attempts[step] = Math.max(attempts[step] ?? 0, a.attempt);
  }
  return attempts;
}

/** The pending activities retrying (or waiting for a worker), per step: "attempt 3/10, last failure: …". */
export function retriesPerStep(pending: PendingActivity[]): Record<string, string[]> {
  const retries: Record<string, string[]> = {};
  for (const p of pending) {
    if (p.attempt < 2 && !p.lastFailure) continue;
    const step = STEP_OF_ACTIVITY[p.activity] ?? p.activity;
    (retries[step] ??= []).push(`${p.activity} ${describeAttempt(p)}`);
  }
  return retries;
}

/** A finished release's steps that never ran read "not run", not "pending". */
function shownState(status: ReleaseStatus, state: string): string {
  const finished = status.state !== 'running' && status.state !== 'waiting' && status.state !== 'blocked';
  return finished && state === 'pending' ? 'not run' : state;
}

function seconds(start?: string, end?: string): string {
  if (!start || !end) return '';
  return `${((Date.parse(end) - Date.parse(start)) / 1000).toFixed(1)}s`;
}

/** One line per image test: name, verdict, duration, and why it failed or was skipped. */
export function formatTestResults(status: ReleaseStatus): string[] {
  return (status.testResults ?? []).map((t) =>
    `  test ${t.name.padEnd(24)}${testVerdict(t).padEnd(8)}${`${(t.durationMs / 1000).toFixed(1)}s`.padStart(8)}  ${t.skipped ?? t.error ?? ''}`.trimEnd(),
  );
}

export interface StatusExtras {
  attempts?: Record<string, number>;
  /** Live retries of pending activities, per step (retriesPerStep). */
  retries?: Record<string, string[]>;
  /** A waiting release's start time (its utctime). */
  startAt?: string;
}

/** The step table people read in a terminal. */
export function formatStatus(status: ReleaseStatus, extras: StatusExtras = {}): string {
  const { attempts, retries } = extras;
  const waitingUntil = extras.startAt ?? status.waitingUntil ?? 'its utctime';
  const state = status.state === 'waiting' ? `waiting until ${waitingUntil}` : `${status.state}${status.dryRun ? ' (dry run: nothing was made)' : ''}`;
  const lines = [`${status.releaseId}  ${state}  ${status.imageName}`];
  for (const step of status.steps) {
    const tries = attempts?.[step.name];
    const column = attempts ? (tries ? `${tries}×` : '').padStart(4) : '';
    lines.push(`  ${step.name.padEnd(17)}${shownState(status, step.state).padEnd(10)}${seconds(step.startedAt, step.finishedAt).padStart(8)}${column}  ${step.detail ?? ''}`.trimEnd());
    const live = retries?.[step.name] ?? [];
    for (const retry of live) lines.push(`      ${retry}`);
    // Retried failures the worker reported to the release (shown while no live retry says more).
    if (!live.length && step.lastFailure && step.state !== 'succeeded')
      lines.push(`      ${step.failedAttempts} failed attempt${step.failedAttempts === 1 ? '' : 's'}, last: ${step.lastFailure}`);
  }
  for (const a of status.accounts ?? []) {
    lines.push(`  account ${a.account.padEnd(20)}${a.state.padEnd(10)}${a.releaseId}${a.error ? `  ${a.error}` : ''}`);
  }
  lines.push(...formatTestResults(status));
  lines.push(...formatDryRun(status));
  const where = (image: { region: string; account?: string }) =>
    image.account ? `${image.account}/${image.region}` : image.region;
  // A build that published no checksum: say so next to the images made from it.
  if (status.checksum) lines.push(`  checksum ${status.checksum.value} (${status.checksum.note})`);
  for (const image of status.images) lines.push(`  image ${where(image)}: ${image.imageId}`);
  for (const image of status.deprecated) lines.push(`  deprecated ${where(image)}: ${image.imageId} (${image.imageName})`);
  lines.push(...formatBlocked(status));
  if (status.error) lines.push(`  error: ${status.error}`);
  return lines.join('\n');
}

/** A blocked release: each blocked region and why, when the timeout applies, and the commands that resolve it. */
export function formatBlocked(status: ReleaseStatus): string[] {
  const skipped = status.skippedRegions?.length ? [`  skipped regions: ${status.skippedRegions.join(', ')}`] : [];
  const b = status.blocked;
  if (!b) return skipped;
  return [
    ...skipped,
    `  blocked in ${b.step} since ${b.since}; ${b.then} at ${b.until} unless someone decides:`,
    ...b.regions.map((r) => `    ${r.region}: ${r.reason}`),
    '  resolve with one of:',
    ...b.resolve.map((c) => `    ${c}`),
  ];
}

/** A dry run's report: what the release would make, share and retire (it made nothing). */
export function formatDryRun(status: ReleaseStatus): string[] {
  const reports = status.dryRun ? [status.dryRun] : (status.accounts ?? []).flatMap((a) => (a.dryRun ? [a.dryRun] : []));
  return reports.flatMap((r) => [
    `  dry run: would release ${r.imageName} in ${r.account}: ${[r.homeRegion, ...r.replicaRegions].join(', ')} (${r.sharing}${r.allowCopy ? '' : ', no copying'})`,
    `    build ${r.build.url} (${r.build.checksum})`,
    ...(r.startAt ? [`    would start at ${r.startAt}`] : []),
    `    tests: ${r.tests.length ? r.tests.join(', ') : 'none'}; last step: ${r.lastService}`,
    `    would deprecate: ${r.wouldDeprecate.length ? r.wouldDeprecate.map((i) => `${i.imageId} (${i.region})`).join(', ') : 'nothing'}`,
    ...r.problems.map((p) => `    problem: ${p}`),
  ]);
}
