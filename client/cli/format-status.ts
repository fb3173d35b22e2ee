import type { ActivityAttempt, ReleaseStatus } from '../sdk/index.js';
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

/** Attempts per step: the most any one of its activities needed (1 when all went through at once). */
export function attemptsPerStep(log: ActivityAttempt[]): Record<string, number> {
  const attempts: Record<string, number> = {};
  for (const a of log) {
    const step = STEP_OF_ACTIVITY[a.activity];
    if (step) attempts[step] = Math.max(attempts[step] ?? 0, a.attempt);
  }
  return attempts;
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

/** The step table people read in a terminal. */
export function formatStatus(status: ReleaseStatus, attempts?: Record<string, number>): string {
  const lines = [`${status.releaseId}  ${status.state}  ${status.imageName}`];
  for (const step of status.steps) {
    const tries = attempts?.[step.name];
    const column = attempts ? (tries ? `${tries}×` : '').padStart(4) : '';
    lines.push(`  ${step.name.padEnd(17)}${step.state.padEnd(10)}${seconds(step.startedAt, step.finishedAt).padStart(8)}${column}  ${step.detail ?? ''}`);
  }
  for (const a of status.accounts ?? []) {
    lines.push(`  account ${a.account.padEnd(20)}${a.state.padEnd(10)}${a.releaseId}${a.error ? `  ${a.error}` : ''}`);
  }
  lines.push(...formatTestResults(status));
  const where = (image: { region: string; account?: string }) =>
    image.account ? `${image.account}/${image.region}` : image.region;
  for (const image of status.images) lines.push(`  image ${where(image)}: ${image.imageId}`);
  for (const image of status.deprecated) lines.push(`  deprecated ${where(image)}: ${image.imageId} (${image.imageName})`);
  if (status.error) lines.push(`  error: ${status.error}`);
  return lines.join('\n');
}
