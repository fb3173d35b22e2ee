import { Option } from 'commander';
import { readSecretJson } from '../secret-input.js';
import { UsageError } from '../store-connection.js';

/**
 * `imagecast account gce add|update` credential flags: a service account key, or keyless
 * (workload identity federation) from the configuration gcloud writes, or from the provider
 * and token file alone (the way google-github-actions/auth takes them).
 */
export const gceCredentialOptions: Option[] = [
  new Option('--credentials <file>', 'service account key file (JSON), or - for stdin'),
  new Option(
    '--federated',
    'keyless: workload identity federation, nothing secret stored (with --credential-config, or --workload-identity-provider and --token-file; needs --project)',
  ),
  new Option(
    '--credential-config <file>',
    'with --federated: the external_account configuration `gcloud iam workload-identity-pools create-cred-config` wrote (JSON), or - for stdin',
  ),
  new Option(
    '--workload-identity-provider <name>',
    'with --federated: projects/NUMBER/locations/global/workloadIdentityPools/POOL/providers/PROVIDER',
  ),
  new Option(
    '--token-file <path>',
    'with --federated: absolute path of the OIDC token file (e.g. a Kubernetes projected token), read at each refresh',
  ),
  new Option(
    '--service-account <email>',
    'with --federated: the service account to act as (impersonated); without it the federated identity itself needs the roles',
  ),
];

const GOOGLE_STS_TOKEN_URL = 'https://sts.googleapis.com/v1/token';
const PROVIDER =
  /^(\/\/iam\.googleapis\.com\/)?projects\/[^/]+\/locations\/global\/workloadIdentityPools\/[^/]+\/providers\/[^/]+$/;

/** The credentials object from the flags, or undefined when none were given (update keeps the stored ones). */
export async function gceCredentials(f: Record<string, string | undefined>): Promise<unknown> {
  const federated =
    Boolean(f.federated) ||
    [f.credentialConfig, f.workloadIdentityProvider, f.tokenFile, f.serviceAccount].some(
      (v) => v !== undefined,
    );
  if (!federated)
    return f.credentials === undefined ? undefined : readSecretJson('--credentials', f.credentials);
  if (f.credentials !== undefined) {
    throw new UsageError(
      '--credentials: not with --federated (a service account key is not keyless); give --credential-config FILE, or --workload-identity-provider NAME and --token-file PATH',
    );
  }
  if (f.credentialConfig !== undefined) {
    if ([f.workloadIdentityProvider, f.tokenFile, f.serviceAccount].some((v) => v !== undefined)) {
      throw new UsageError(
        '--credential-config: not with --workload-identity-provider, --token-file or --service-account (the configuration holds them)',
      );
    }
    return externalAccountConfig(f.credentialConfig);
  }
  if (!f.workloadIdentityProvider || !f.tokenFile) {
    throw new UsageError(
      '--federated: needs --credential-config FILE, or --workload-identity-provider NAME and --token-file PATH',
    );
  }
  if (!PROVIDER.test(f.workloadIdentityProvider)) {
    throw new UsageError(
      `--workload-identity-provider: expected projects/NUMBER/locations/global/workloadIdentityPools/POOL/providers/PROVIDER, got "${f.workloadIdentityProvider}"`,
    );
  }
  // What create-cred-config writes for the same provider and file (an OIDC token, as text).
  return {
    type: 'external_account',
    audience: f.workloadIdentityProvider.startsWith('//')
      ? f.workloadIdentityProvider
      : `//iam.googleapis.com/${f.workloadIdentityProvider}`,
    subject_token_type: 'urn:ietf:params:oauth:token-type:jwt',
    token_url: GOOGLE_STS_TOKEN_URL,
    credential_source: { file: f.tokenFile, format: { type: 'text' } },
    ...(f.serviceAccount !== undefined && {
      service_account_impersonation_url: `https://iamcredentials.googleapis.com/v1/projects/-/serviceAccounts/${f.serviceAccount}:generateAccessToken`,
    }),
  };
}

/** The configuration file, refused early when it is something else (a key file belongs in --credentials). */
async function externalAccountConfig(source: string): Promise<unknown> {
  const config = await readSecretJson('--credential-config', source);
  const type = config && typeof config === 'object' ? (config as Record<string, unknown>).type : undefined;
  if (type !== 'external_account') {
    const given =
      typeof type === 'string' && /^[a-z_]{1,40}$/.test(type)
        ? `type "${type}"`
        : 'no type "external_account"';
    const hint =
      type === 'service_account' ? ' (a service account key goes in --credentials, without --federated)' : '';
    throw new UsageError(
      `--credential-config: ${source === '-' ? 'stdin' : source} has ${given}, expected an external_account configuration${hint}`,
    );
  }
  return config;
}
