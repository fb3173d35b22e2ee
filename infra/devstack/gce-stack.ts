import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Storage } from '@google-cloud/storage';
import { PassThroughClient } from 'google-auth-library';
import { startGceComputeFake } from '../fakes/gce-compute/index.js';
import { startFakeGcsServer } from './fake-gcs-server.js';
import { startGcsResumeShim } from './gcs-resume-shim.js';
import { ensureStackMasterKeys } from './stack-master-keys.js';

/** The bucket the stack makes for the printed account. */
export const STACK_BUCKET = 'imagecast-stack-images';

export interface GceStack {
  /** IMAGECAST_GCS_ENDPOINT: the resume shim in front of fake-gcs-server. */
  storageEndpoint: string;
  /** IMAGECAST_GCE_COMPUTE_ENDPOINT: our Compute Engine fake. */
  computeEndpoint: string;
  masterKeysFile: string;
  /** A service-account key file of the shape Google issues (never signed with: the fakes take no token). */
  keyFile: string;
  stop(): Promise<void>;
}

/**
 * fake-gcs-server (behind our resume shim) and our Compute Engine fake, for GCE releases by
 * hand (`npm run stack -- --gce`, docs/gce.md). Both keep everything in memory: add the
 * account again after a restart.
 */
export async function startGceStack(stateDir: string): Promise<GceStack> {
  const gcs = await startFakeGcsServer({ logFile: join(stateDir, 'fake-gcs.log') });
  const stops: Array<() => Promise<void>> = [gcs.stop];
  try {
    const shim = await startGcsResumeShim({ upstream: gcs.endpoint });
    stops.unshift(shim.stop);
    const compute = await startGceComputeFake({ storageEndpoint: gcs.endpoint });
    stops.unshift(compute.stop);
    const storage = new Storage({ apiEndpoint: gcs.endpoint, projectId: 'imagecast-stack', authClient: new PassThroughClient() });
    const [exists] = await storage.bucket(STACK_BUCKET).exists();
    if (!exists) await storage.createBucket(STACK_BUCKET);
    const keyFile = join(stateDir, 'gce-stack-key.json');
    writeFileSync(keyFile, JSON.stringify(stackKey(), null, 2), { mode: 0o600 });
    return {
      storageEndpoint: shim.endpoint,
      computeEndpoint: compute.endpoint,
      masterKeysFile: ensureStackMasterKeys(stateDir),
      keyFile,
      stop: async () => {
        for (const stop of stops) await stop();
      },
    };
  } catch (error) {
    for (const stop of stops) await stop();
    throw error;
  }
}

/** The key file the stack prints for its account (also what the GCE bench signs in with, never used to sign). */
export function stackKey() {
  return {
    type: 'service_account',
    project_id: 'imagecast-stack',
    private_key_id: '0000000000000000000000000000000000stack0',
    private_key: '-----BEGIN PRIVATE KEY-----\nbm90LWEta2V5LWltYWdlY2FzdC1zdGFjaw==\n-----END PRIVATE KEY-----\n',
    client_email: 'imagecast@imagecast-stack.iam.gserviceaccount.com',
    client_id: '100000000000000000002',
    auth_uri: 'https://accounts.google.com/o/oauth2/auth',
    token_uri: 'https://oauth2.googleapis.com/token',
    auth_provider_x509_cert_url: 'https://www.googleapis.com/oauth2/v1/certs',
    client_x509_cert_url: 'https://www.googleapis.com/robot/v1/metadata/x509/imagecast%40imagecast-stack.iam.gserviceaccount.com',
  };
}
