// The clouds' object writers for `imagecast imagelist publish` and `image upload` to s3://,
// gs:// and azure-blob:// targets: the same providers the worker builds, with accounts from
// the encrypted account store (`imagecast account`), made only for a cloud a target names.
// The emulator endpoints are the worker's settings (IMAGECAST_AWS_ENDPOINT, …), read the same way.
import { StorageSharedKeyCredential } from '@azure/storage-blob';
import type pg from 'pg';
import { AccountStore } from '../../activities/accounts/account-store.js';
import { storedAccountDirectory } from '../../activities/accounts/stored-account-directory.js';
import { createAzureCloud } from '../../activities/azure/index.js';
import type { ObjectWritersByCloud } from '../../activities/common/imagelist/publish-target.js';
import { createEc2Cloud } from '../../activities/ec2/index.js';
import { createGceCloud } from '../../activities/gce/index.js';
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
  const made: Partial<Record<'ec2' | 'gce' | 'azure', CloudProvider & { close?(): unknown }>> = {};
  const provider = (cloud: 'ec2' | 'gce' | 'azure') => {
    if (!made[cloud]) {
      // The master key is needed only once a target names a cloud account.
      const accounts = storedAccountDirectory(new AccountStore(pool, masterKeysFromEnv(), cliActor()));
      made[cloud] =
        cloud === 'ec2'
          ? createEc2Cloud({ accounts, endpoint: env.IMAGECAST_AWS_ENDPOINT || undefined })
          : cloud === 'gce'
            ? createGceCloud({ accounts, storageEndpoint: env.IMAGECAST_GCS_ENDPOINT || undefined })
            : createAzureCloud({ accounts, ...azureBlobEmulator(env) });
    }
    return made[cloud];
  };
  try {
    return await run((cloud) => (input) => provider(cloud).openObjectWriter!(input));
  } finally {
    for (const p of Object.values(made)) await p.close?.();
  }
}

/** Azurite instead of Azure: every storage account under one endpoint, with the emulator's shared key. */
function azureBlobEmulator(env: NodeJS.ProcessEnv) {
  const root = env.IMAGECAST_AZURE_BLOB_ENDPOINT;
  if (!root) return {};
  const key = env.IMAGECAST_AZURE_BLOB_KEY;
  if (!key)
    throw new UsageError(
      "IMAGECAST_AZURE_BLOB_KEY (the emulator's shared key) is required with IMAGECAST_AZURE_BLOB_ENDPOINT, and is not set",
    );
  return {
    blob: {
      endpointFor: (storageAccount: string) => `${root.replace(/\/$/, '')}/${storageAccount}`,
      credentialFor: (storageAccount: string) => new StorageSharedKeyCredential(storageAccount, key),
    },
  };
}
