import { fileURLToPath } from 'node:url';
import { startManagedProcess, type ManagedProcess } from '../../infra/devstack/child-process.js';
import type { ReleaseHarness } from './release-harness.js';

const workerMain = fileURLToPath(new URL('../../worker/main.js', import.meta.url));

/**
 * The real worker binary serving `queue` for a harness's Temporal, database and queue prefix,
 * as a process a test can SIGKILL. `env` adds the cloud's settings.
 */
export function startWorkerProcess(
  h: ReleaseHarness,
  queue: string,
  logFile: string,
  env: Record<string, string> = {},
): ManagedProcess {
  return startManagedProcess(process.execPath, [workerMain, '--queues', queue], logFile, {
    env: {
      ...process.env,
      IMAGECAST_TEMPORAL_ADDRESS: h.temporalAddress,
      IMAGECAST_DATABASE_URL: h.databaseUrl,
      IMAGECAST_QUEUE_PREFIX: h.queuePrefix,
      ...env,
    },
  });
}
