// The clouds' object writers for `imagecast imagelist publish` and `image upload` to s3://,
// gs:// and azure-blob:// targets: the same providers the worker builds, with accounts from
// the encrypted account store (`imagecast account`), made only for a cloud a target names.
// The emulator endpoints are the worker's settings (IMAGECAST_AWS_ENDPOINT, …), read the same way.
// The cloud SDKs are loaded only then: every other command starts without them (seconds saved).
import type pg from 'pg';
import { AccountStore } from '../../activities/accounts/account-store.js';
import { storedAccountDirectory } from '../../activities/accounts/stored-account-directory.js';
import type { ObjectWritersByCloud } from '../../activities/common/imagelist/publish-target.js';
import type { CloudProvider } from '../../activities/provider.js';
import { cliActor, masterKeysFromEnv, UsageError } from './store-connection.js';

export const OBJECT_STORE_ENVIRONMENT =
  'IMAGECAST_AWS_ENDPOINT, IMAGECAST_GCS_ENDPOINT, IMAGECAST_AZURE_BLOB_ENDPOINT and IMAGECAST_AZURE_BLOB_KEY (emulators, as for the worker)';

/** Object writers per cloud for the length of `run`; the clients are closed after it. */
export async function withObjectWriters<T>(
  pool: pg.Pool,
  run: (writers: ObjectWritersByCloud) => Promise<T>,
  env: NodeJS.ProcessEnv = process.env,
): Promise<T> {
  type Cloud = 'ec2' | 'gce' | 'azure';
  const made: Partial<Record<Cloud, Promise<CloudProvider & { close?(): unknown }>>> = {};
  const provider = (cloud: Cloud) => (made[cloud] ??= makeProvider(cloud, pool, env));
  try {
    return await run((cloud) => async (input) => (await provider(cloud)).openObjectWriter!(input));
  } finally {
    for (const p of Object.values(made)) await (await p.catch(() => undefined))?.close?.();
  }
}

async function makeProvider(
  cloud: 'ec2' | 'gce' | 'azure',
  pool: pg.Pool,
  env: NodeJS.ProcessEnv,
): Promise<CloudProvider & { close?(): unknown }> {
  // The master key is needed only once a target names a cloud account.
  const accounts = storedAccountDirectory(new AccountStore(pool, masterKeysFromEnv(), cliActor()));
  if (cloud === 'ec2') {
    const { createEc2Cloud } = await import('../../activities/ec2/index.js');
    return createEc2Cloud({ accounts, endpoint: env.IMAGECAST_AWS_ENDPOINT || undefined });
  }
  if (cloud === 'gce') {
    const { createGceCloud } = await import('../../activities/gce/index.js');
    return createGceCloud({ accounts, storageEndpoint: env.IMAGECAST_GCS_ENDPOINT || undefined });
  }
  const { createAzureCloud } = await import('../../activities/azure/index.js');
  return createAzureCloud({ accounts, ...(await azureBlobEmulator(env)) });
}

/** Azurite instead of Azure: every storage account under one endpoint, with the emulator's shared key. */
async function azureBlobEmulator(env: NodeJS.ProcessEnv) {
  const root = env.IMAGECAST_AZURE_BLOB_ENDPOINT;
  if (!root) return {};
  const key = env.IMAGECAST_AZURE_BLOB_KEY;
  if (!key)
    throw new UsageError(
      "IMAGECAST_AZURE_BLOB_KEY (the emulator's shared key) is required with IMAGECAST_AZURE_BLOB_ENDPOINT, and is not set",
    );
  const { StorageSharedKeyCredential } = await import('@azure/storage-blob');
  return {
    blob: {
      endpointFor: (storageAccount: string) => `${root.replace(/\/$/, '')}/${storageAccount}`,
      credentialFor: (storageAccount: string) => new StorageSharedKeyCredential(storageAccount, key),
    },
  };
}
