import { readFile } from 'node:fs/promises';
import type { TokenCredential } from '@azure/core-auth';
import {
  AzureAuthorityHosts,
  ClientAssertionCredential,
  ClientSecretCredential,
  type ClientAssertionCredentialOptions,
} from '@azure/identity';
import {
  isAzureWorkloadIdentity,
  type AzureAccount,
  type AzureWorkloadIdentity,
} from '../../schemas/accounts.js';
import { trustCaPolicy } from './trust-ca.js';

const MICROSOFT_AUTHORITY_HOSTS: ReadonlySet<string> = new Set(Object.values(AzureAuthorityHosts));

/**
 * The Microsoft Entra sign-in of an account: a service principal's secret, or (keyless) a
 * workload identity's federated token file. `authorityCaPem` is a CA the sign-in trusts
 * besides the system's (a local identity fake's certificate; tests only).
 */
export function accountCredential(account: AzureAccount, authorityCaPem?: string): TokenCredential {
  const c = account.credentials;
  const options = authorityOptions(c.activeDirectoryEndpointUrl, authorityCaPem);
  if (isAzureWorkloadIdentity(c)) {
    const identity = c;
    return new ClientAssertionCredential(
      c.tenantId,
      c.clientId,
      () => readFederatedToken(account.name, identity),
      options,
    );
  }
  return new ClientSecretCredential(c.tenantId, c.clientId, c.clientSecret, options);
}

/**
 * Where to sign in. MSAL validates an authority it does not know by asking
 * login.microsoftonline.com ("instance discovery"), which a sovereign or private authority
 * (or a fake) cannot pass: for any host but Microsoft's own, it is told the authority is
 * known and reads the authority's own OpenID configuration instead.
 */
function authorityOptions(
  authorityHost: string | undefined,
  caPem: string | undefined,
): ClientAssertionCredentialOptions {
  const host = authorityHost?.replace(/\/+$/, '');
  return {
    ...(host && { authorityHost: host }),
    ...(host && !MICROSOFT_AUTHORITY_HOSTS.has(host) && { disableInstanceDiscovery: true }),
    ...(caPem && { additionalPolicies: [{ policy: trustCaPolicy(caPem), position: 'perCall' as const }] }),
  };
}

/**
 * The client assertion for one token request: the file is read every time, not once. The
 * platform (AKS workload identity, a CI's OIDC token) replaces the token before it expires,
 * and MSAL asks only when it needs a new access token. (WorkloadIdentityCredential would keep
 * the content for 5 minutes and fail with a message that names neither account nor field.)
 */
export async function readFederatedToken(
  accountName: string,
  credentials: AzureWorkloadIdentity,
): Promise<string> {
  const file = credentials.federated_token_file;
  const token = await readFile(file, 'utf8').then(
    (text) => text.trim(),
    (error: NodeJS.ErrnoException) => {
      throw new Error(
        `account ${accountName}: credentials.federated_token_file ${file} cannot be read (${error.code ?? error.message})`,
      );
    },
  );
  if (token === '')
    throw new Error(`account ${accountName}: credentials.federated_token_file ${file} is empty`);
  return token;
}
