/**
 * Azurite (Blob) and our Resource Manager fake over HTTPS, plus an Azure account pointed at
 * them, for tests that drive the Azure provider for real: the SDK clients make real HTTP(S)
 * calls, the fake answers ARM's documented shapes, Azurite stores the page blobs.
 */
import { ResourceManagementClient } from '@azure/arm-resources';
import type { TokenCredential } from '@azure/core-auth';
import { BlobServiceClient, StorageSharedKeyCredential } from '@azure/storage-blob';
import { accountDirectory, type AccountDirectory } from '../../activities/accounts/account-directory.js';
import { createAzureCloud, type AzureCloudOptions } from '../../activities/azure/index.js';
import { parseBlobUrl } from '../../activities/azure/page-blobs.js';
import { trustCaPolicy } from '../../activities/azure/trust-ca.js';
import { startAzurite, type Azurite } from '../../infra/devstack/azurite.js';
import { startArmFake, type ArmFake } from '../../infra/fakes/azure-arm/index.js';

export const AZURE_STORAGE_ACCOUNT = 'imagecastsa';
export const AZURE_CONTAINER = 'images';
export const AZURE_RESOURCE_GROUP = 'images-rg';
export const AZURE_GALLERY_GROUP = 'gallery-rg';
export const AZURE_SUBSCRIPTION = '8f3c2a10-0000-4000-8000-000000000001';
/** The test accounts' service principal (the fakes check no secret). */
export const AZURE_TEST_CREDENTIALS = {
  clientId: '8f3c2a10-0000-4000-8000-00000000c11e',
  clientSecret: 'not-a-secret-azure-test',
  subscriptionId: AZURE_SUBSCRIPTION,
  tenantId: '8f3c2a10-0000-4000-8000-0000000007e1',
};

export interface AzureEmulator {
  arm: ArmFake;
  azurite: Azurite;
  accountsJson: Record<string, unknown>;
  accounts: AccountDirectory;
  /** The provider options that point at the fakes (what a worker gets from IMAGECAST_AZURE_*). */
  cloudOptions: AzureCloudOptions;
  provider(overrides?: Partial<AzureCloudOptions>): ReturnType<typeof createAzureCloud>;
  /** Names of the blobs in the account's container. */
  blobs(): Promise<string[]>;
  stop(): Promise<void>;
}

const sharedKey = (azurite: Azurite, account: string) =>
  new StorageSharedKeyCredential(account, azurite.accountKey);

export async function startAzureEmulator(
  options: { replicationMs?: number; operationMs?: number } = {},
): Promise<AzureEmulator> {
  const azurite = await startAzurite({ accounts: [AZURE_STORAGE_ACCOUNT] });
  const blobService = (account: string) =>
    new BlobServiceClient(`${azurite.root}/${account}`, sharedKey(azurite, account));
  const arm = await startArmFake({
    operationMs: options.operationMs ?? 30,
    replicationMs: options.replicationMs ?? 80,
    // As Azure does, images are made only from a blob that is there.
    blobExists: async (uri) => {
      const { storageAccount, container, blobName } = parseBlobUrl(uri);
      return blobService(storageAccount).getContainerClient(container).getBlobClient(blobName).exists();
    },
  });
  await blobService(AZURE_STORAGE_ACCOUNT).createContainer(AZURE_CONTAINER);
  const credential: TokenCredential = {
    getToken: async () => ({ token: 'test', expiresOnTimestamp: Date.now() + 3_600_000 }),
  };
  const resources = new ResourceManagementClient(credential, AZURE_SUBSCRIPTION, {
    endpoint: arm.endpoint,
    credentialScopes: ['https://management.azure.com/.default'],
    additionalPolicies: [{ policy: trustCaPolicy(arm.caPem), position: 'perCall' }],
  });
  for (const group of [AZURE_RESOURCE_GROUP, AZURE_GALLERY_GROUP])
    await resources.resourceGroups.createOrUpdate(group, { location: 'westeurope' });

  const accountsJson = {
    azure: [
      {
        name: 'azure-pub',
        region: 'westeurope',
        source_container: AZURE_CONTAINER,
        source_resource_group: AZURE_RESOURCE_GROUP,
        source_storage_account: AZURE_STORAGE_ACCOUNT,
        credentials: AZURE_TEST_CREDENTIALS,
      },
    ],
  };
  const accounts = accountDirectory(accountsJson);
  const cloudOptions: AzureCloudOptions = {
    accounts,
    armEndpoint: arm.endpoint,
    armCaPem: arm.caPem,
    blob: {
      endpointFor: (account) => `${azurite.root}/${account}`,
      credentialFor: (account) => sharedKey(azurite, account),
    },
    pollMs: 40,
  };
  return {
    arm,
    azurite,
    accountsJson,
    accounts,
    cloudOptions,
    provider: (overrides = {}) => createAzureCloud({ ...cloudOptions, ...overrides }),
    async blobs() {
      const names: string[] = [];
      for await (const b of blobService(AZURE_STORAGE_ACCOUNT)
        .getContainerClient(AZURE_CONTAINER)
        .listBlobsFlat())
        names.push(b.name);
      return names.sort();
    },
    async stop() {
      await arm.stop();
      await azurite.stop();
    },
  };
}

/** The smallest Azure job for `azure-pub` against a test build service (a managed image; gallery tests add gallery_name). */
export function azureTestJob(
  downloadUrl: string,
  name: string,
  overrides: Record<string, unknown> = {},
): Record<string, unknown> {
  return {
    cloud: 'azure',
    cloud_account: 'azure-pub',
    cloud_image_name: `${name}-v{date}`,
    image_description: 'Imagecast Azure test image',
    download_url: downloadUrl,
    image: 'test-image',
    last_service: 'replicate',
    utctime: 'now',
    ...overrides,
  };
}
