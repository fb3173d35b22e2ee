/**
 * What every start of a release carries besides its job: the one-line summary and the details
 * the Web UI shows (its workflow list reads "release sles-15-v20261125 · ec2/prod · us-east-1,
 * eu-west-1"), the search attributes `job list` filters on, and the memo it reads a waiting
 * release's start time from. Every start path (SDK, CLI, gateway, retry, schedules) uses this.
 */
import type { SearchAttributePair } from '@temporalio/common';
import { expandImageName } from '../../schemas/job/index.js';
import { searchAttributeKeys as keys } from '../../schemas/search-attributes.js';

/** The memo key holding a future `utctime` (the release waits for it on a timer). */
export const START_AT_MEMO = 'startAt';

/** The fields of a job document the summary reads; every cloud's job has them (or their mash variants). */
interface JobLike {
  cloud?: unknown;
  cloud_image_name?: unknown;
  cloud_account?: unknown;
  cloud_accounts?: unknown;
  cloud_groups?: unknown;
  region?: unknown;
  additional_regions?: unknown;
  last_service?: unknown;
  utctime?: unknown;
  dry_run?: unknown;
}

export interface StartMetadata {
  staticSummary: string;
  staticDetails: string;
  typedSearchAttributes: SearchAttributePair[];
  memo: Record<string, unknown>;
}

/** The accounts a job names: one account, a list (mash's {name, region}), or groups. */
export function jobAccounts(job: JobLike): string {
  if (typeof job.cloud_account === 'string' && job.cloud_account) return job.cloud_account;
  if (Array.isArray(job.cloud_accounts)) {
    return job.cloud_accounts
      .map((a: unknown) => (typeof a === 'string' ? a : String((a as { name?: unknown }).name ?? '?')))
      .join(',');
  }
  if (Array.isArray(job.cloud_groups)) return `groups ${job.cloud_groups.map(String).join(',')}`;
  return '';
}

/** The regions a job names itself (the home region first); the account may add its own. */
export function jobRegions(job: JobLike): string[] {
  const regions = typeof job.region === 'string' ? [job.region] : [];
  for (const r of Array.isArray(job.additional_regions) ? job.additional_regions : []) {
    regions.push(typeof r === 'string' ? r : String((r as { name?: unknown }).name ?? '?'));
  }
  return regions;
}

/** "release <image> · <cloud>/<account> · <regions>": the Web UI's one line per release. */
export function releaseSummary(job: JobLike, date: string): string {
  const image = expandImageName(String(job.cloud_image_name ?? '?'), { date });
  const regions = jobRegions(job);
  return [
    `${job.dry_run === true ? 'dry run of release' : 'release'} ${image}`,
    `${String(job.cloud ?? '?')}/${jobAccounts(job) || '?'}`,
    regions.length ? regions.join(', ') : "the account's regions",
  ].join(' · ');
}

/** Summary, details, search attributes and memo for starting `releaseImage` with this job. */
export function releaseStartMetadata(job: JobLike, date: string, extraDetails: string[] = []): StartMetadata {
  const account = jobAccounts(job);
  const image = expandImageName(String(job.cloud_image_name ?? ''), { date });
  const startAt = typeof job.utctime === 'string' && job.utctime !== 'now' && job.utctime !== 'always' ? job.utctime : undefined;
  return {
    staticSummary: releaseSummary(job, date),
    staticDetails: [
      `**image** ${image}`,
      `**cloud** ${String(job.cloud)}, **accounts** ${account || '—'}`,
      `**regions** ${jobRegions(job).join(', ') || "the account's"}`,
      `**last step** ${String(job.last_service ?? 'all')}`,
      ...(job.dry_run === true ? ['**dry run**: makes nothing, reports what the release would do'] : []),
      ...(startAt ? [`**starts at** ${startAt}`] : []),
      ...extraDetails,
    ].join('\n\n'),
    typedSearchAttributes: [
      { key: keys.cloud, value: String(job.cloud) },
      { key: keys.account, value: account },
      { key: keys.imageName, value: image },
      // The workflow reports its own state at once; until then, say what it will be.
      { key: keys.releaseStatus, value: startAt && Date.parse(startAt) > Date.now() ? 'waiting' : 'running' },
      { key: keys.releaseStep, value: 'download' },
    ],
    memo: startAt ? { [START_AT_MEMO]: startAt } : {},
  };
}
