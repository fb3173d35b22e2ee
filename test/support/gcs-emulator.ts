/**
 * fake-gcs-server behind our resume shim (it gets a resumable session's status query wrong),
 * with a GCE account whose clients point at it, for tests of the GCE upload step.
 */
import { join } from 'node:path';
import { PassThroughClient } from 'google-auth-library';
import { startFakeGcsServer } from '../../infra/devstack/fake-gcs-server.js';
import { startGcsResumeShim, type GcsResumeShim } from '../../infra/devstack/gcs-resume-shim.js';
import { accountDirectory } from '../../activities/accounts/account-directory.js';
import { GceSessions, type GceClients } from '../../activities/gce/clients.js';
import { TEST_GCE_KEY } from './gce-key.js';
import { tempDir } from './stack.js';

export const TEST_GCE_ACCOUNT = 'test-gce';

export interface GcsEmulator {
  /** What our code talks to: the shim, which forwards to fake-gcs-server. */
  endpoint: string;
  /** fake-gcs-server itself (reads that must not pass the shim, and the log). */
  upstream: string;
  shim: GcsResumeShim;
  clients(): Promise<GceClients>;
  createBucket(name: string): Promise<void>;
  stop(): Promise<void>;
}

export async function startGcsEmulator(label: string): Promise<GcsEmulator> {
  const server = await startFakeGcsServer({ logFile: join(tempDir(`${label}-fake-gcs`), 'fake-gcs.log') });
  const shim = await startGcsResumeShim({ upstream: server.endpoint });
  const accounts = accountDirectory({
    gce: [{ name: TEST_GCE_ACCOUNT, zone: 'us-east1-b', bucket: 'imagecast-test-images', credentials: TEST_GCE_KEY }],
  });
  const sessions = new GceSessions(accounts, { storageEndpoint: shim.endpoint, authClient: new PassThroughClient() });
  return {
    endpoint: shim.endpoint,
    upstream: server.endpoint,
    shim,
    clients: () => sessions.forAccount(TEST_GCE_ACCOUNT),
    async createBucket(name) {
      const c = await sessions.forAccount(TEST_GCE_ACCOUNT);
      const [exists] = await c.storage.bucket(name).exists();
      if (!exists) await c.storage.createBucket(name);
    },
    async stop() {
      await sessions.close();
      await shim.stop();
      await server.stop();
    },
  };
}
