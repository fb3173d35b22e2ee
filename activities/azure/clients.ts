import { ComputeManagementClient } from '@azure/arm-compute';
import { NetworkManagementClient } from '@azure/arm-network';
import { ResourceManagementClient } from '@azure/arm-resources';
import type { TokenCredential } from '@azure/core-auth';
import { BlobServiceClient, type StorageSharedKeyCredential } from '@azure/storage-blob';
import type { AzureAccount } from '../../schemas/accounts.js';
import type { AccountDirectory } from '../accounts/account-directory.js';
import { PerAccount } from '../common/per-account.js';
import { accountCredential } from './credentials.js';
import { trustCaPolicy } from './trust-ca.js';

export interface AzureSettings {
  /** Resource Manager root of a fake (`https://127.0.0.1:PORT`); without it, the account's (or Azure's). */
  armEndpoint?: string;
  /** A CA the ARM client trusts besides the system's: the fake's self-signed certificate. */
  armCaPem?: string;
  /** Used instead of the account's own sign-in (a fake takes any token). */
  credential?: TokenCredential;
  /** A CA the Microsoft Entra sign-in trusts besides the system's: a local identity fake's certificate. */
  authorityCaPem?: string;
  /**
   * Blob endpoints of an emulator: the URL of a storage account and its shared key
   * (Azurite). Without it, `https://<account>.blob.core.windows.net` with the service
   * principal's token (it needs "Storage Blob Data Contributor" on the account).
   */
  blob?: {
    endpointFor(storageAccount: string): string;
    credentialFor(storageAccount: string): StorageSharedKeyCredential;
  };
}

/** The official SDK clients for one account, all acting in the account's subscription. */
export interface AzureClients {
  account: AzureAccount;
  subscriptionId: string;
  compute: ComputeManagementClient;
  network: NetworkManagementClient;
  resources: ResourceManagementClient;
  /** The Blob service of a storage account (the job may name another than the account's). */
  blobService(storageAccount: string): BlobServiceClient;
}

const ARM_SCOPE = 'https://management.azure.com/.default';

/**
 * Clients per account, made at call time from the account's service principal or (keyless)
 * its workload identity, whose token file is read for each new access token. One credential
 * serves the ARM clients and the blob client. A secret lives only in the credential's memory:
 * never returned, logged or put into an error.
 */
export class AzureSessions {
  private readonly clients: PerAccount<AzureClients>;

  constructor(
    private readonly accounts: AccountDirectory,
    private readonly settings: AzureSettings = {},
  ) {
    this.clients = new PerAccount((name) => this.make(name));
  }

  forAccount(accountName: string): Promise<AzureClients> {
    return this.clients.get(accountName);
  }

  private async make(accountName: string): Promise<AzureClients> {
    const account = await this.accounts.azureAccount(accountName);
    const sp = account.credentials;
    const credential = this.settings.credential ?? accountCredential(account, this.settings.authorityCaPem);
    const endpoint = this.settings.armEndpoint ?? sp.resourceManagerEndpointUrl;
    const options = {
      ...(endpoint && { endpoint: endpoint.replace(/\/$/, '') }),
      credentialScopes: [
        endpoint && !this.settings.armEndpoint ? `${endpoint.replace(/\/$/, '')}/.default` : ARM_SCOPE,
      ],
      ...(this.settings.armCaPem && {
        additionalPolicies: [{ policy: trustCaPolicy(this.settings.armCaPem), position: 'perCall' as const }],
      }),
    };
    const blobs = new Map<string, BlobServiceClient>();
    const blob = this.settings.blob;
    return {
      account,
      subscriptionId: sp.subscriptionId,
      compute: new ComputeManagementClient(credential, sp.subscriptionId, options),
      network: new NetworkManagementClient(credential, sp.subscriptionId, options),
      resources: new ResourceManagementClient(credential, sp.subscriptionId, options),
      blobService(storageAccount) {
        let client = blobs.get(storageAccount);
        if (!client) {
          client = blob
            ? new BlobServiceClient(blob.endpointFor(storageAccount), blob.credentialFor(storageAccount))
            : new BlobServiceClient(`https://${storageAccount}.blob.core.windows.net`, credential);
          blobs.set(storageAccount, client);
        }
        return client;
      },
    };
  }
}
