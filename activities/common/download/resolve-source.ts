import type { ImageCondition, SourceSpec } from '../../../schemas/release-plan.js';
import type { ResolvedImageSource } from '../../provider.js';
import { nonRetryable } from '../errors.js';
import {
  buildNamePattern,
  buildStem,
  listedFileNames,
  matchingBuilds,
  type BuildFile,
} from './build-listing.js';
import { parseChecksumFile, type ImageChecksum } from './checksum-file.js';
import { disallowedPackages, unmetConditions, type UnmetCondition } from './conditions.js';
import { NotFound, fetchText, fileFacts } from './fetch-text.js';
import { resolveS3Source } from './s3-source.js';
import { parsePackagesManifest, type ManifestPackage } from './packages-manifest.js';

/** What the download step resolves: the release plan's source (mash's download fields). */
export type ResolveSourceInput = SourceSpec;
export type { ImageCondition };

export interface ResolveSourceDeps {
  /** Activities pass Temporal's cancellable sleep; tests pass one that advances a fake clock. */
  sleep?(ms: number): Promise<void>;
  heartbeat?(details?: unknown): void;
  now?(): number;
}

/** How often the listing is polled while waiting on conditions (mash waits 150 s). */
const POLL_INTERVAL_MS = 60_000;
/** Heartbeats while waiting come this often, so a heartbeat timeout under a minute holds. */
const HEARTBEAT_INTERVAL_MS = 10_000;

/**
 * The download step, the mash/OBS way: `downloadUrl` is a build-service directory and
 * `image` the name before `.ARCH`. Finds the newest build (rpm order of version, then
 * release), its checksum file and its packages manifest; checks the job's conditions,
 * polling the directory for a newer build until `conditionsWaitSeconds` have passed; and
 * rejects disallowed packages and licenses. Downloads nothing big: the upload streams the
 * image itself.
 */
export async function resolveImageSource(
  input: ResolveSourceInput,
  deps: ResolveSourceDeps = {},
): Promise<ResolvedImageSource> {
  if (input.downloadType === 'S3') return resolveS3Source(input.downloadUrl, input.downloadAccount ?? '', input);
  const sleep = deps.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  const now = deps.now ?? Date.now;
  const directory = input.downloadUrl.endsWith('/') ? input.downloadUrl : `${input.downloadUrl}/`;
  const deadline = now() + input.conditionsWaitSeconds * 1000;
  for (;;) {
    const build = await newestBuild(directory, input);
    const packages = await fetchPackages(directory, build);
    const unmet = unmetConditions(input.conditions, { ...build, packages });
    if (unmet.length === 0) {
      rejectDisallowed(build, packages, input);
      return describeSource(directory, build, packages);
    }
    const remaining = deadline - now();
    if (remaining <= 0) {
      throw nonRetryable(
        'ConditionsNotMet',
        `the newest build at ${directory}, ${build.fileName}, does not meet the job's conditions ` +
          `(waited ${input.conditionsWaitSeconds}s for a newer one): ${describeUnmet(unmet)}`,
        { build: build.fileName, unmet: unmet.map(({ wanted, found }) => ({ wanted, found })) },
      );
    }
    const waiting = { waitingFor: unmet.map((u) => u.wanted), build: build.fileName };
    await waitWithHeartbeats(Math.min(POLL_INTERVAL_MS, remaining), sleep, () => deps.heartbeat?.(waiting));
  }
}

async function newestBuild(directory: string, input: ResolveSourceInput): Promise<BuildFile> {
  let names: string[];
  try {
    names = listedFileNames(await fetchText(directory), directory);
  } catch (error) {
    if (error instanceof NotFound)
      throw nonRetryable('ImageSourceNotFound', `download_url ${directory} not found: ${error.message}`);
    throw error;
  }
  const [newest] = matchingBuilds(names, input.image, input.architecture, input.profile);
  if (!newest) {
    const seen = names.length > 30 ? [...names.slice(0, 30), `… ${names.length - 30} more`] : names;
    throw nonRetryable(
      'ImageSourceNotFound',
      `no file named ${buildNamePattern(input.image, input.architecture, input.profile)} in ${directory}; ` +
        `it holds ${seen.length ? seen.join(', ') : 'no files'}`,
    );
  }
  return newest;
}

/** The build's kiwi manifest, or undefined when it has none (conditions on packages then fail). */
async function fetchPackages(directory: string, build: BuildFile): Promise<ManifestPackage[] | undefined> {
  try {
    return parsePackagesManifest(await fetchText(new URL(`${buildStem(build)}.packages`, directory).href));
  } catch (error) {
    if (error instanceof NotFound) return undefined;
    throw error;
  }
}

function rejectDisallowed(
  build: BuildFile,
  packages: ManifestPackage[] | undefined,
  input: ResolveSourceInput,
): void {
  if (input.disallowPackages.length === 0 && input.disallowLicenses.length === 0) return;
  if (!packages) {
    // Policy that cannot be checked is not met: releasing unchecked would be the surprise.
    throw nonRetryable(
      'DisallowedContent',
      `${build.fileName} has no packages manifest, so disallow_packages/disallow_licenses cannot be checked`,
    );
  }
  const found = disallowedPackages(packages, input.disallowPackages, input.disallowLicenses);
  if (found.length > 0) {
    throw nonRetryable(
      'DisallowedContent',
      `${build.fileName} contains disallowed content: ${found.map((p) => `${p.name} ${p.reason}`).join('; ')}`,
      { build: build.fileName, packages: found },
    );
  }
}

async function describeSource(
  directory: string,
  build: BuildFile,
  packages: ManifestPackage[] | undefined,
): Promise<ResolvedImageSource> {
  const url = new URL(build.fileName, directory).href;
  const facts = await fileFacts(url);
  return {
    url,
    fileName: build.fileName,
    sizeBytes: facts.sizeBytes,
    ...(facts.modifiedAt && { builtAt: facts.modifiedAt.toISOString() }),
    compression: build.compression,
    ...(build.format === 'vhdfixed' && { format: 'vhdfixed' as const }),
    checksum: await fetchChecksum(url, build.fileName),
    version: build.version,
    release: build.release,
    packageCount: packages?.length,
  };
}

/** OBS publishes `<file>.sha256`; some projects publish `<file>.sha512` instead. */
async function fetchChecksum(url: string, fileName: string): Promise<ImageChecksum> {
  for (const algorithm of ['sha256', 'sha512'] as const) {
    let text: string;
    try {
      text = await fetchText(`${url}.${algorithm}`);
    } catch (error) {
      if (error instanceof NotFound) continue;
      throw error;
    }
    try {
      return parseChecksumFile(text, fileName, algorithm);
    } catch (error) {
      throw nonRetryable(
        'ImageSourceNotFound',
        `${url}.${algorithm} is unusable: ${(error as Error).message}`,
      );
    }
  }
  throw nonRetryable(
    'ImageSourceNotFound',
    `${fileName} has no ${fileName}.sha256 or ${fileName}.sha512 checksum file beside it`,
  );
}

function describeUnmet(unmet: UnmetCondition[]): string {
  return unmet.map((u) => `${u.wanted} (${u.found})`).join('; ');
}

async function waitWithHeartbeats(
  ms: number,
  sleep: (ms: number) => Promise<void>,
  heartbeat: () => void,
): Promise<void> {
  for (let left = ms; left > 0; left -= HEARTBEAT_INTERVAL_MS) {
    heartbeat();
    await sleep(Math.min(HEARTBEAT_INTERVAL_MS, left));
  }
}
