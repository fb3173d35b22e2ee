import type { NamePlaceholder } from './fields.js';

/** The value of `{date}`: the UTC day of `at` as YYYYMMDD, as in mash. */
export function imageNameDate(at: Date): string {
  return at.toISOString().slice(0, 10).replace(/-/g, '');
}

/**
 * Fills `cloud_image_name`'s placeholders: `{date}` (UTC YYYYMMDD), and the resolved build's
 * `{version}` and `{release}`. A placeholder without a value stays literal.
 */
export function expandImageName(
  template: string,
  values: { date: string; version?: string; release?: string },
): string {
  return template.replace(
    /\{(date|version|release)\}/g,
    (whole, name: NamePlaceholder) => values[name] ?? whole,
  );
}

/**
 * The image line a name template stands for. The template itself is the identity: every
 * release of `sles-15-v{date}-b{release}` in one account belongs to the same line, and each
 * one replaces (deprecates) the line's earlier images. Two templates are two lines, even if
 * some expanded names look alike.
 */
export function imageLine(template: string): string {
  return template;
}

/**
 * The Temporal workflow id of a release: `release-<cloud>-<account>-<cloud_image_name>` with
 * only `{date}` expanded, so one image line is released at most once at a time per cloud,
 * account and day. Anything outside `[A-Za-z0-9._-]` becomes `_` (so `{release}` reads
 * `_release_`). Jobs without a `cloud_account` use `default`.
 */
export function deterministicReleaseId(
  job: { cloud: string; cloud_image_name: string; cloud_account?: string },
  date: string,
): string {
  const name = expandImageName(job.cloud_image_name, { date });
  return `release-${job.cloud}-${job.cloud_account ?? 'default'}-${name}`.replace(/[^A-Za-z0-9._-]/g, '_');
}
