import { ApplicationFailure } from '@temporalio/common';
import type { CloudProvider, PreflightInput } from '../provider.js';
import type { CloudImageOptions } from '../../schemas/release-plan.js';
import type { PreflightCheck, PreflightProblem } from '../../schemas/preflight.js';

/**
 * The preflight of one account: the cloud's own checks (credentials, regions, public
 * sharing), then whether the image name is free in every usable region. Every problem is
 * collected, so one run names them all. A failure a retry may cure (a network error,
 * throttling) is thrown for the activity to retry; one that is the account's or the job's
 * (refused, not found) becomes a problem.
 */
export async function runPreflight(
  provider: CloudProvider,
  input: PreflightInput,
): Promise<PreflightProblem[]> {
  const problem = problemMaker(provider, input);
  let own: PreflightProblem[];
  try {
    own = provider.preflight ? await provider.preflight(input) : [];
  } catch (error) {
    own = [credentialsProblem(provider.cloud, input.release.account, 'the account cannot be used', error)];
  }
  // Without working credentials, every lookup would fail the same way: one problem says it.
  if (own.some((p) => p.check === 'credentials')) return own;
  const disabled = new Set(own.filter((p) => p.check === 'region-enabled').map((p) => p.region));
  const names = await Promise.all(
    input.regions
      .filter((region) => !disabled.has(region))
      .map((region) => nameProblem(provider, input, region, problem)),
  );
  const found = names.filter((p): p is PreflightProblem => p !== undefined);
  // A cloud with no checks of its own: its lookups are the credentials check.
  if (!provider.preflight && found.length > 0 && found.every((p) => p.check === 'credentials'))
    return [found[0]!];
  return [...own, ...found];
}

async function nameProblem(
  provider: CloudProvider,
  input: PreflightInput,
  region: string,
  problem: ReturnType<typeof problemMaker>,
): Promise<PreflightProblem | undefined> {
  const { release, imageName, options } = input;
  try {
    const image = await provider.findImageByName(release.account, region, imageName, options);
    // This run's own image (a retry after a crash) is not a clash.
    if (!image || image.releaseToken === release.releaseToken) return undefined;
    if (replacesTakenNames(options)) return undefined;
    return problem(
      'image-name',
      region,
      `an image named "${imageName}" already exists (${image.imageId}${image.imageName !== imageName ? `, made as ${image.imageName}` : ''})`,
      'choose another cloud_image_name (e.g. with {date} or {release}), remove that image, or set force_replace_image: true to replace it after the new image is tested',
    );
  } catch (error) {
    return credentialsProblem(provider.cloud, release.account, 'cannot look up images', error, region);
  }
}

/** force_replace_image: a taken name is replaced, not refused. */
export function replacesTakenNames(options: CloudImageOptions | undefined): boolean {
  return Boolean(options && 'forceReplace' in options && options.forceReplace);
}

/** Makes the problems of one account's preflight; every cloud's own checks use it. */
export type PreflightProblemMaker = (
  check: PreflightCheck,
  region: string | undefined,
  message: string,
  fix: string,
) => PreflightProblem;

export function preflightProblemMaker(
  cloud: PreflightProblem['cloud'],
  account: string,
): PreflightProblemMaker {
  return (check, region, message, fix) => ({
    cloud,
    account,
    ...(region !== undefined && { region }),
    check,
    message,
    fix,
  });
}

function problemMaker(provider: CloudProvider, input: PreflightInput): PreflightProblemMaker {
  return preflightProblemMaker(provider.cloud, input.release.account);
}

/** The message of a failure that is a verdict; anything a retry may cure is thrown on. */
export function verdictMessage(error: unknown): string {
  if (error instanceof ApplicationFailure && error.nonRetryable) return error.message;
  throw error;
}

/**
 * The problem of an account whose credentials do not work: `failed` says what it could not
 * do, the cloud's verdict why. A failure a retry may cure is thrown on (verdictMessage).
 */
export function credentialsProblem(
  cloud: PreflightProblem['cloud'],
  account: string,
  failed: string,
  error: unknown,
  region?: string,
): PreflightProblem {
  const problem = preflightProblemMaker(cloud, account);
  return problem(
    'credentials',
    region,
    `${failed}: ${verdictMessage(error)}`,
    credentialsFix(cloud, account),
  );
}

export function credentialsFix(cloud: string, account: string): string {
  return `check the account's credentials and permissions (imagecast account ${cloud} show --name ${account}; docs/${cloud === 'local' ? 'jobs' : cloud}.md)`;
}
