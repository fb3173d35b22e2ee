/**
 * fake-gcs-server (behind our resume shim) and our Compute Engine fake, plus GCE accounts in
 * two projects pointed at them, for tests that drive the GCE provider for real.
 */
import { Storage } from '@google-cloud/storage';
import { PassThroughClient } from 'google-auth-library';
import { accountDirectory, type AccountDirectory } from '../../activities/accounts/account-directory.js';
import { createGceCloud, type GceCloudOptions } from '../../activities/gce/index.js';
import { ImagesClient, type protos } from '@google-cloud/compute';
import { startGceComputeFake, type GceComputeFake, type RequestRecord } from '../../infra/fakes/gce-compute/index.js';
import { startGcsEmulator, type GcsEmulator } from './gcs-emulator.js';
import { TEST_GCE_KEY } from './gce-key.js';

export const PUBLISH_PROJECT = 'imagecast-publish';
export const TESTING_PROJECT = 'imagecast-testing';

type GceImage = protos.google.cloud.compute.v1.IImage;

export interface GceEmulator {
  /** Where our code talks to Cloud Storage (the resume shim in front of fake-gcs-server). */
  storageEndpoint: string;
  computeEndpoint: string;
  compute: GceComputeFake;
  gcs: GcsEmulator;
  storage: Storage;
  accountsJson: Record<string, unknown>;
  accounts: AccountDirectory;
  /** A GCE provider for `gce-pub` (publishing, tested in `gce-test`) and `gce-test`, polling fast. */
  provider(overrides?: Partial<GceCloudOptions>): ReturnType<typeof createGceCloud>;
  /** The fake's images of a project, as the API shows them. */
  images(project: string): GceImage[];
  /** The fake's calls of one API method, with the project and zone from the path. */
  calls(method: string): Array<RequestRecord & { project: string; zone?: string }>;
  iamPolicy(project: string, image: string): Promise<protos.google.cloud.compute.v1.IPolicy>;
  /** Names of the objects in a bucket. */
  objects(bucket: string): Promise<string[]>;
  stop(): Promise<void>;
}

const key = (project: string) => ({
  ...TEST_GCE_KEY,
  project_id: project,
  client_email: `imagecast@${project}.iam.gserviceaccount.com`,
});

export async function startGceEmulator(label: string): Promise<GceEmulator> {
  const gcs = await startGcsEmulator(label);
  const compute = await startGceComputeFake({ storageEndpoint: gcs.upstream, operationMs: 50, imageReadyMs: 100 });
  const accountsJson = {
    gce: [
      { name: 'gce-pub', zone: 'us-east1-c', bucket: 'pub-images', is_publishing_account: true, testing_account: 'gce-test', credentials: key(PUBLISH_PROJECT) },
      { name: 'gce-test', zone: 'us-west1-a', bucket: 'test-images', credentials: key(TESTING_PROJECT) },
    ],
  };
  const storage = new Storage({ apiEndpoint: gcs.upstream, projectId: PUBLISH_PROJECT, authClient: new PassThroughClient() });
  for (const bucket of ['pub-images', 'test-images']) await gcs.createBucket(bucket);
  const accounts = accountDirectory(accountsJson);
  return {
    storageEndpoint: gcs.endpoint,
    computeEndpoint: compute.endpoint,
    compute,
    gcs,
    storage,
    accountsJson,
    accounts,
    provider: (overrides = {}) =>
      createGceCloud({ accounts, computeEndpoint: compute.endpoint, storageEndpoint: gcs.endpoint, pollMs: 50, ...overrides }),
    images: (project) => compute.state.images(project) as GceImage[],
    calls: (method) =>
      compute.state.requests(method).map((r) => ({
        ...r,
        project: /\/projects\/([^/]+)/.exec(r.path)?.[1] ?? '',
        ...(/\/zones\/([^/]+)/.exec(r.path) && { zone: /\/zones\/([^/]+)/.exec(r.path)![1] }),
      })),
    async iamPolicy(project, image) {
      const url = new URL(compute.endpoint);
      const client = new ImagesClient({ apiEndpoint: url.hostname, port: Number(url.port), protocol: 'http', authClient: new PassThroughClient() });
      try {
        const [policy] = await client.getIamPolicy({ project, resource: image });
        return policy;
      } finally {
        await client.close();
      }
    },
    objects: async (bucket) => (await storage.bucket(bucket).getFiles())[0].map((f) => f.name).sort(),
    async stop() {
      await compute.stop();
      await gcs.stop();
    },
  };
}

/**
 * The smallest GCE job for the publishing account against a test build service; names carry
 * no {release} (OBS releases have dots, which GCE names cannot).
 */
export function gceTestJob(downloadUrl: string, name: string, overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    cloud: 'gce',
    cloud_account: 'gce-pub',
    cloud_image_name: `${name}-v{date}`,
    image_description: 'Imagecast GCE test image',
    download_url: downloadUrl,
    image: 'test-image',
    family: 'imagecast-test',
    ...overrides,
  };
}
