import type { ReleaseStatus } from '../sdk/index.js';

function seconds(start?: string, end?: string): string {
  if (!start || !end) return '';
  return `${((Date.parse(end) - Date.parse(start)) / 1000).toFixed(1)}s`;
}

/** The step table people read in a terminal. */
export function formatStatus(status: ReleaseStatus): string {
  const lines = [`${status.releaseId}  ${status.state}  ${status.imageName}`];
  for (const step of status.steps) {
    lines.push(`  ${step.name.padEnd(17)}${step.state.padEnd(10)}${seconds(step.startedAt, step.finishedAt).padStart(8)}  ${step.detail ?? ''}`);
  }
  for (const a of status.accounts ?? []) {
    lines.push(`  account ${a.account.padEnd(20)}${a.state.padEnd(10)}${a.releaseId}${a.error ? `  ${a.error}` : ''}`);
  }
  const where = (image: { region: string; account?: string }) =>
    image.account ? `${image.account}/${image.region}` : image.region;
  for (const image of status.images) lines.push(`  image ${where(image)}: ${image.imageId}`);
  for (const image of status.deprecated) lines.push(`  deprecated ${where(image)}: ${image.imageId} (${image.imageName})`);
  if (status.error) lines.push(`  error: ${status.error}`);
  return lines.join('\n');
}
