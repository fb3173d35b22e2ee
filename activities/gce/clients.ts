import {
  FirewallsClient,
  GlobalOperationsClient,
  ImagesClient,
  InstancesClient,
  ZoneOperationsClient,
} from '@google-cloud/compute';
import { Storage } from '@google-cloud/storage';
import { GoogleAuth, type AuthClient } from 'google-auth-library';
import { gceProjectOf, type GceAccount } from '../../schemas/accounts.js';
import type { AccountDirectory } from '../accounts/account-directory.js';
import { PerAccount } from '../common/per-account.js';
import { federatedAuthClient } from './federated-auth.js';

export interface GceSettings {
  /** Compute Engine API root of a fake (`http://127.0.0.1:PORT`); without it, Google's. */
  computeEndpoint?: string;
  /** Cloud Storage JSON API root of an emulator (`http://127.0.0.1:PORT`); without it, Google's. */
  storageEndpoint?: string;
  /** Used instead of the account's key (a fake needs no real token). */
  authClient?: AuthClient;
  /** Keyless accounts refresh their access token this long before it expires (default 5 min; tests raise it to refresh sooner). */
  refreshBeforeMs?: number;
}

/** The official SDK clients for one account, all acting in the account's project. */
export interface GceClients {
  account: GceAccount;
  /** The project images are made in: the account's `project`, or its key's project_id. */
  project: string;
  images: ImagesClient;
  instances: InstancesClient;
  firewalls: FirewallsClient;
  globalOperations: GlobalOperationsClient;
  zoneOperations: ZoneOperationsClient;
  storage: Storage;
}

const SCOPES = ['https://www.googleapis.com/auth/cloud-platform'];

/** Where a gax client connects: Google, or a fake given as a URL. */
function computeOptions(settings: GceSettings, authClient: AuthClient) {
  if (!settings.computeEndpoint) return { authClient };
  const url = new URL(settings.computeEndpoint);
  return {
    authClient,
    apiEndpoint: url.hostname,
    port: Number(url.port),
    protocol: url.protocol.replace(':', ''),
  };
}

/**
 * Clients per account, made at call time from the account's service-account key, or, for a
 * keyless account, its workload identity federation configuration (the token file is read at
 * each refresh). The key and the tokens live only in these clients' memory: never returned,
 * logged or put into an error.
 */
export class GceSessions {
  private readonly clients: PerAccount<GceClients>;

  constructor(
    private readonly accounts: AccountDirectory,
    private readonly settings: GceSettings = {},
  ) {
    this.clients = new PerAccount((name) => this.make(name));
  }

  forAccount(accountName: string): Promise<GceClients> {
    return this.clients.get(accountName);
  }

  private async make(accountName: string): Promise<GceClients> {
    const account = await this.accounts.gceAccount(accountName);
    const project = gceProjectOf(account);
    const authClient = this.settings.authClient ?? (await this.authClientOf(account));
    const options = computeOptions(this.settings, authClient);
    return {
      account,
      project,
      images: new ImagesClient(options),
      instances: new InstancesClient(options),
      firewalls: new FirewallsClient(options),
      globalOperations: new GlobalOperationsClient(options),
      zoneOperations: new ZoneOperationsClient(options),
      storage: new Storage({
        projectId: project,
        authClient,
        // The SDK sends no token to an endpoint of its own choosing unless told to; the auth
        // client decides (a fake's pass-through one sends none).
        ...(this.settings.storageEndpoint && { apiEndpoint: this.settings.storageEndpoint, useAuthWithCustomEndpoint: true }),
      }),
    };
  }

  private async authClientOf(account: GceAccount): Promise<AuthClient> {
    const credentials = account.credentials;
    if (credentials.type === 'external_account') {
      return federatedAuthClient(account, credentials, { scopes: SCOPES, refreshBeforeMs: this.settings.refreshBeforeMs });
    }
    return new GoogleAuth({ credentials, scopes: SCOPES }).getClient();
  }

  async close(): Promise<void> {
    for (const c of await this.clients.drain()) {
      await Promise.allSettled([c.images, c.instances, c.firewalls, c.globalOperations, c.zoneOperations].map((x) => x.close()));
    }
  }
}
