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

/** The example values placeholders take when a template's names are checked before any release. */
export const SAMPLE_PLACEHOLDER_VALUES = { date: '20261203', version: '15.6.0', release: '1.42' };

/** `cloud_image_name` with the sample placeholder values, as the up-front checks see it. */
export function sampleImageName(template: string): string {
  return expandImageName(template, SAMPLE_PLACEHOLDER_VALUES);
}

/**
 * A template as a message names it: as given and, when it has placeholders, as the sample
 * values fill it in (so "20261203" in a message is not mistaken for the release's date).
 */
export function describeTemplate(template: string): string {
  const expanded = sampleImageName(template);
  return expanded === template ? `"${template}"` : `"${template}" (as "${expanded}" with sample values for its placeholders)`;
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
