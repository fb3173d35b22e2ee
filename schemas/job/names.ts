/** Fills `cloud_image_name`'s placeholders; unknown values stay literal. */
export function expandImageName(template: string, values: { date: string; version?: string; release?: string }): string {
  return template.replace(/\{(date|version|release)\}/g, (whole, name: 'date' | 'version' | 'release') => values[name] ?? whole);
}

/** Images made from one name template form a line: each release of it replaces the last. */
export function imageLine(template: string): string {
  return template;
}

/**
 * The Temporal workflow id of a release: one per cloud, account, and image line on a day, so
 * the same line cannot be released twice at once.
 */
export function deterministicReleaseId(job: { cloud: string; cloud_image_name: string; cloud_account?: string }, date: string): string {
  const name = expandImageName(job.cloud_image_name, { date });
  return `release-${job.cloud}-${job.cloud_account ?? 'default'}-${name}`.replace(/[^A-Za-z0-9._-]/g, '_');
}
