import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ResourceManagementClient } from '@azure/arm-resources';
import { BlobServiceClient, StorageSharedKeyCredential } from '@azure/storage-blob';
import { parseBlobUrl } from '../../activities/azure/page-blobs.js';
import { trustCaPolicy } from '../../activities/azure/trust-ca.js';
import { startArmFake } from '../fakes/azure-arm/index.js';
import { startAzurite } from './azurite.js';
import { ensureStackMasterKeys } from './stack-master-keys.js';

/** What the stack makes for the printed account: storage account, container and resource group. */
export const STACK_AZURE = {
  storageAccount: 'imagecaststack',
  container: 'images',
  resourceGroup: 'imagecast-stack-rg',
  region: 'westeurope',
} as const;
const STACK_SUBSCRIPTION = '00000000-0000-4000-8000-00000000a2e0';

export interface AzureStack {
  /** IMAGECAST_AZURE_ARM_ENDPOINT and _ARM_CA_FILE: our Resource Manager fake over HTTPS. */
  armEndpoint: string;
  armCaFile: string;
  /** IMAGECAST_AZURE_BLOB_ENDPOINT and _BLOB_KEY: Azurite (its key is public). */
  blobEndpoint: string;
  blobKey: string;
  masterKeysFile: string;
  /** A service principal file of `az ad sp create-for-rbac --sdk-auth`'s shape (the fake takes any token). */
  credentialsFile: string;
  stop(): Promise<void>;
}

/**
 * Azurite and our ARM fake, for Azure releases by hand (`npm run stack -- --azure`,
 * docs/azure.md). Both keep everything in memory: add the account again after a restart.
 */
export async function startAzureStack(stateDir: string): Promise<AzureStack> {
  const azurite = await startAzurite({
    logFile: join(stateDir, 'azurite.log'),
    accounts: [STACK_AZURE.storageAccount],
  });
  const stops: Array<() => Promise<void>> = [azurite.stop];
  try {
    const arm = await startArmFake({
      // As Azure does, images are made only from a blob that is there.
      blobExists: (uri) => {
        const { storageAccount, container, blobName } = parseBlobUrl(uri);
        return new BlobServiceClient(`${azurite.root}/${storageAccount}`, key(azurite.accountKey))
          .getContainerClient(container)
          .getBlobClient(blobName)
          .exists();
      },
      replicationMs: 2_000,
      operationMs: 500,
    });
    stops.unshift(arm.stop);
    const blobs = new BlobServiceClient(
      `${azurite.root}/${STACK_AZURE.storageAccount}`,
      key(azurite.accountKey),
    );
    await blobs.getContainerClient(STACK_AZURE.container).createIfNotExists();
    const resources = new ResourceManagementClient(
      { getToken: async () => ({ token: 'stack', expiresOnTimestamp: Date.now() + 3_600_000 }) },
      STACK_SUBSCRIPTION,
      {
        endpoint: arm.endpoint,
        credentialScopes: ['https://management.azure.com/.default'],
        additionalPolicies: [{ policy: trustCaPolicy(arm.caPem), position: 'perCall' }],
      },
    );
    await resources.resourceGroups.createOrUpdate(STACK_AZURE.resourceGroup, {
      location: STACK_AZURE.region,
    });
    const armCaFile = join(stateDir, 'azure-arm-ca.pem');
    writeFileSync(armCaFile, arm.caPem);
    const credentialsFile = join(stateDir, 'azure-stack-sp.json');
    writeFileSync(credentialsFile, JSON.stringify(stackServicePrincipal(), null, 2), { mode: 0o600 });
    return {
      armEndpoint: arm.endpoint,
      armCaFile,
      blobEndpoint: azurite.root,
      blobKey: azurite.accountKey,
      masterKeysFile: ensureStackMasterKeys(stateDir),
      credentialsFile,
      stop: async () => {
        for (const stop of stops) await stop();
      },
    };
  } catch (error) {
    for (const stop of stops) await stop();
    throw error;
  }
}

// Azurite's one key serves every account it was started with.
const key = (accountKey: string) => new StorageSharedKeyCredential(STACK_AZURE.storageAccount, accountKey);

function stackServicePrincipal() {
  return {
    clientId: '00000000-0000-4000-8000-0000000c11e0',
    clientSecret: 'not-a-secret-imagecast-stack',
    subscriptionId: STACK_SUBSCRIPTION,
    tenantId: '00000000-0000-4000-8000-0000000007e0',
    activeDirectoryEndpointUrl: 'https://login.microsoftonline.com',
    resourceManagerEndpointUrl: 'https://management.azure.com/',
    activeDirectoryGraphResourceId: 'https://graph.windows.net/',
    sqlManagementEndpointUrl: 'https://management.core.windows.net:8443/',
    galleryEndpointUrl: 'https://gallery.azure.com/',
    managementEndpointUrl: 'https://management.core.windows.net/',
  };
}
