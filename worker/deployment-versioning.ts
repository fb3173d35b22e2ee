// Worker Deployment Versioning: a worker that names its deployment and build serves only the
// releases of its version. Releases are PINNED: one started on build v1 runs every workflow
// task on v1 workers until it ends, while releases started after `temporal worker deployment
// set-current-version … --build-id v2` run on v2. A new build never replays an old release's
// history, so a rollout needs no patch for releases already running (patches are still
// written, for workers run without versioning).
import type { WorkerOptions } from '@temporalio/worker';

export interface WorkerVersion {
  deploymentName: string;
  buildId: string;
}

/**
 * IMAGECAST_WORKER_DEPLOYMENT_NAME + IMAGECAST_WORKER_BUILD_ID, or the variables the Temporal
 * Worker Controller sets in its pods (TEMPORAL_DEPLOYMENT_NAME, WORKER_BUILD_ID). Both or
 * neither: a build without a deployment (or the reverse) is a mistake worth stopping for.
 */
export function workerVersionFromEnv(env: NodeJS.ProcessEnv): WorkerVersion | undefined {
  const deploymentName = env.IMAGECAST_WORKER_DEPLOYMENT_NAME || env.TEMPORAL_DEPLOYMENT_NAME || '';
  const buildId = env.IMAGECAST_WORKER_BUILD_ID || env.WORKER_BUILD_ID || '';
  if (!deploymentName && !buildId) return undefined;
  if (!deploymentName)
    throw new Error(
      `IMAGECAST_WORKER_DEPLOYMENT_NAME: expected a deployment name with IMAGECAST_WORKER_BUILD_ID (${buildId}), got none`,
    );
  if (!buildId)
    throw new Error(
      `IMAGECAST_WORKER_BUILD_ID: expected a build id with IMAGECAST_WORKER_DEPLOYMENT_NAME (${deploymentName}), got none`,
    );
  for (const [name, value] of [
    ['IMAGECAST_WORKER_DEPLOYMENT_NAME', deploymentName],
    ['IMAGECAST_WORKER_BUILD_ID', buildId],
  ] as const) {
    // Temporal joins them as "<deployment>.<build>" in some APIs, and the CLI takes them as flags.
    if (
      !/^[A-Za-z0-9][A-Za-z0-9._-]{0,254}$/.test(value) ||
      (name === 'IMAGECAST_WORKER_DEPLOYMENT_NAME' && value.includes('.'))
    )
      throw new Error(
        `${name}: expected letters, digits, "-", "_"${name === 'IMAGECAST_WORKER_BUILD_ID' ? ' and "."' : ''} (at most 255), got "${value}"`,
      );
  }
  return { deploymentName, buildId };
}

/** The Worker options for a version (none without one: the worker is unversioned, as before). */
export function deploymentOptions(
  version: WorkerVersion | undefined,
): Pick<WorkerOptions, 'workerDeploymentOptions'> {
  if (!version) return {};
  return {
    workerDeploymentOptions: {
      useWorkerVersioning: true,
      version,
      // Releases and sweeps finish on the build they started on (see the module comment).
      defaultVersioningBehavior: 'PINNED',
    },
  };
}
