import { Option, type Command } from 'commander';
import { ACCOUNT_CLOUDS, type AccountCloud } from '../../../schemas/accounts.js';
import type { AccountSummary } from '../../../activities/accounts/account-store.js';
import { EXIT_OK } from '../exit-codes.js';
import { runCommand } from '../command-output.js';
import { readSecretJson, readSecretText } from '../secret-input.js';
import { gceCredentialOptions, gceCredentials } from './account-gce.js';
import { addStoreOptions, STORE_ENVIRONMENT, UsageError, withStore } from '../store-connection.js';

/** A setting flag and the account field it fills (mash's flag names). */
interface SettingFlag {
  flags: string;
  field: string;
  help: string;
  kind?: 'list' | 'boolean';
}

interface CloudSpec {
  settings: SettingFlag[];
  credentialOptions: Option[];
  /** The credentials object from the flags, or undefined when none were given (update keeps the stored ones). */
  credentials(flags: Record<string, string | undefined>): Promise<unknown>;
  example: string;
}

const group: SettingFlag = { flags: '--group <name>', field: 'group', help: 'account group (jobs may name a group)' };

const SPECS: Record<AccountCloud, CloudSpec> = {
  ec2: {
    settings: [
      { flags: '--partition <partition>', field: 'partition', help: 'aws (default), aws-cn or aws-us-gov' },
      { flags: '--region <region>', field: 'region', help: 'home region: the image is made here' },
      { flags: '--additional-regions <list>', field: 'additional_regions', help: 'comma-separated regions to copy to', kind: 'list' },
      group,
      { flags: '--subnet <id>', field: 'subnet', help: 'subnet for test instances' },
      { flags: '--upload-method <method>', field: 'upload_method', help: 'ebs_direct (default) or s3_import' },
      { flags: '--import-bucket <bucket>', field: 'import_bucket', help: 'S3 bucket in the home region, for s3_import' },
    ],
    credentialOptions: [
      new Option('--access-key-id <id>', 'IAM user access key id (with --secret-access-key-file)'),
      new Option('--secret-access-key-file <file>', 'file holding the secret access key, or - for stdin'),
      new Option('--secret-access-key <value>', 'refused: secrets are never taken from argv').hideHelp(),
      new Option('--role-arn <arn>', 'role Imagecast assumes in the account (with --external-id)'),
      new Option('--external-id <id>', "the external id the role's trust policy requires"),
      new Option('--external-id-file <file>', 'the external id from a file, or - for stdin'),
      new Option('--federated', 'keyless: assume --role-arn with --web-identity-token-file (nothing secret stored)'),
      new Option('--web-identity-token-file <path>', 'absolute path of an OIDC token file (e.g. a Kubernetes projected service-account token), read at each renewal'),
      new Option('--session-duration <duration>', 'with --federated: lifetime of each set of credentials, 15m to 12h (default 1h)'),
    ],
    async credentials(f) {
      if (f.secretAccessKey !== undefined) {
        throw new UsageError(
          '--secret-access-key: secrets are not taken from the command line (they show in ps and shell history); use --secret-access-key-file FILE, or - to pipe it in',
        );
      }
      if (f.accessKeyId !== undefined || f.secretAccessKeyFile !== undefined) {
        if (!f.accessKeyId || !f.secretAccessKeyFile)
          throw new UsageError('--access-key-id and --secret-access-key-file go together');
        return {
          access_key_id: f.accessKeyId,
          secret_access_key: await readSecretText('--secret-access-key-file', f.secretAccessKeyFile),
        };
      }
      if (f.federated || f.webIdentityTokenFile !== undefined || f.sessionDuration !== undefined) {
        if (f.externalId !== undefined || f.externalIdFile !== undefined)
          throw new UsageError('--external-id: not with --federated/--web-identity-token-file (a web identity role is assumed with the token, not an external id)');
        if (!f.roleArn || !f.webIdentityTokenFile)
          throw new UsageError('--federated: needs --role-arn ARN and --web-identity-token-file PATH');
        return {
          role_arn: f.roleArn,
          web_identity_token_file: f.webIdentityTokenFile,
          ...(f.sessionDuration !== undefined && { session_duration_seconds: sessionSeconds(f.sessionDuration) }),
        };
      }
      if (f.roleArn !== undefined || f.externalId !== undefined || f.externalIdFile !== undefined) {
        const externalId =
          f.externalIdFile !== undefined ? await readSecretText('--external-id-file', f.externalIdFile) : f.externalId;
        if (!f.roleArn || externalId === undefined)
          throw new UsageError('--role-arn and --external-id (or --external-id-file) go together');
        return { role_arn: f.roleArn, external_id: externalId };
      }
      return undefined;
    },
    example: `  imagecast account ec2 add --name sles-prod --region us-east-1 --additional-regions eu-west-1 \\
    --role-arn arn:aws:iam::123456789012:role/imagecast --external-id 8f3c2a…
  imagecast account ec2 add --name sles-keyless --region us-east-1 --federated \\
    --role-arn arn:aws:iam::123456789012:role/imagecast \\
    --web-identity-token-file /var/run/secrets/eks.amazonaws.com/serviceaccount/token
  pass show aws/key | imagecast account ec2 add --name china --partition aws-cn --region cn-north-1 \\
    --access-key-id AKIA… --secret-access-key-file -`,
  },
  gce: {
    settings: [
      { flags: '--zone <zone>', field: 'zone', help: "GCE zone test instances run in, e.g. us-east1-b (mash's account region)" },
      { flags: '--bucket <bucket>', field: 'bucket', help: 'GCS bucket the disk is uploaded to' },
      { flags: '--is-publishing-account', field: 'is_publishing_account', help: 'images go to a public project (needs --testing-account)', kind: 'boolean' },
      { flags: '--testing-account <name>', field: 'testing_account', help: 'account test instances run in' },
      { flags: '--project <id>', field: 'project', help: "project images are made in: required with --federated; default: the key's project_id" },
      group,
    ],
    credentialOptions: gceCredentialOptions,
    credentials: gceCredentials,
    example: `  imagecast account gce add --name gce-test --zone us-east1-b --bucket test-images --credentials test-key.json
  imagecast account gce add --name gce-prod --zone us-east1-c --bucket images --credentials key.json \\
    --is-publishing-account --testing-account gce-test
  # keyless, from what gcloud iam workload-identity-pools create-cred-config wrote:
  imagecast account gce add --name gce-keyless --zone us-east1-b --bucket images --project my-project \\
    --federated --credential-config wif-config.json
  # keyless, from the provider and the token file alone:
  imagecast account gce add --name gce-keyless --zone us-east1-b --bucket images --project my-project \\
    --federated --workload-identity-provider projects/123456789012/locations/global/workloadIdentityPools/ci/providers/ci-oidc \\
    --token-file /var/run/secrets/tokens/gcp-token --service-account imagecast@my-project.iam.gserviceaccount.com`,
  },
  azure: {
    settings: [
      { flags: '--region <region>', field: 'region', help: 'Azure region, e.g. westeurope' },
      { flags: '--source-container <name>', field: 'source_container', help: 'blob container the disk is uploaded to' },
      { flags: '--source-resource-group <name>', field: 'source_resource_group', help: 'resource group of the storage account' },
      { flags: '--source-storage-account <name>', field: 'source_storage_account', help: 'storage account' },
      group,
    ],
    credentialOptions: [
      new Option('--credentials <file>', 'service principal SDK auth file (JSON), or - for stdin'),
      new Option('--federated', 'keyless: a workload identity signs in with --federated-token-file (nothing secret stored)'),
      new Option('--tenant-id <guid>', 'with --federated: the directory (tenant) id (AZURE_TENANT_ID)'),
      new Option('--client-id <guid>', 'with --federated: the client id of the app or managed identity with the federated credential (AZURE_CLIENT_ID)'),
      new Option('--subscription-id <guid>', 'with --federated: the subscription images are made in'),
      new Option('--federated-token-file <path>', 'absolute path of the OIDC token file (AZURE_FEDERATED_TOKEN_FILE), read for each new access token'),
      new Option('--active-directory-endpoint-url <url>', 'with --federated: the Microsoft Entra authority of another cloud (default https://login.microsoftonline.com)'),
      new Option('--resource-manager-endpoint-url <url>', 'with --federated: the Resource Manager of another cloud (default https://management.azure.com)'),
    ],
    async credentials(f) {
      const federatedFlags = FEDERATED_AZURE_FLAGS.filter(([key]) => f[key] !== undefined);
      if (!f.federated && federatedFlags.length === 0) {
        return f.credentials === undefined ? undefined : readSecretJson('--credentials', f.credentials);
      }
      if (f.credentials !== undefined)
        throw new UsageError('--credentials: not with --federated (a workload identity has no secret file; give its ids and --federated-token-file)');
      const missing = FEDERATED_AZURE_FLAGS.filter(([key, , required]) => required && !f[key]).map(([, flag]) => flag);
      if (missing.length > 0) throw new UsageError(`--federated: needs ${missing.map((flag) => `${flag} ${flag === '--federated-token-file' ? 'PATH' : 'GUID'}`).join(', ')}`);
      return {
        tenantId: f.tenantId,
        clientId: f.clientId,
        subscriptionId: f.subscriptionId,
        federated_token_file: f.federatedTokenFile,
        ...(f.activeDirectoryEndpointUrl !== undefined && { activeDirectoryEndpointUrl: f.activeDirectoryEndpointUrl }),
        ...(f.resourceManagerEndpointUrl !== undefined && { resourceManagerEndpointUrl: f.resourceManagerEndpointUrl }),
      };
    },
    example: `  imagecast account azure add --name az --region westeurope --source-container images \\
    --source-resource-group rg --source-storage-account imgs --credentials sp.json
  imagecast account azure add --name az-keyless --region westeurope --source-container images \\
    --source-resource-group rg --source-storage-account imgs --federated \\
    --tenant-id 72f988bf-86f1-41af-91ab-2d7cd011db47 --client-id 0c3e1f2a-5b6d-4c7e-8f90-a1b2c3d4e5f6 \\
    --subscription-id 3f2a9c4e-1b7d-4e8a-9c2f-5d6e7f8a9b0c \\
    --federated-token-file /var/run/secrets/azure/tokens/azure-identity-token`,
  },
};

/** The flags of a keyless Azure account: the option key, the flag, whether --federated needs it. */
const FEDERATED_AZURE_FLAGS: ReadonlyArray<[key: string, flag: string, required: boolean]> = [
  ['tenantId', '--tenant-id', true],
  ['clientId', '--client-id', true],
  ['subscriptionId', '--subscription-id', true],
  ['federatedTokenFile', '--federated-token-file', true],
  ['activeDirectoryEndpointUrl', '--active-directory-endpoint-url', false],
  ['resourceManagerEndpointUrl', '--resource-manager-endpoint-url', false],
];

/** `imagecast account <cloud> add|list|show|update|delete`: accounts stored encrypted in PostgreSQL. */
export function register(program: Command): void {
  const account = program
    .command('account')
    .description('cloud accounts, stored in PostgreSQL with their credentials encrypted')
    .addHelpText('after', `\nEnvironment: ${STORE_ENVIRONMENT}.\n\nExample:\n  imagecast account ec2 list`);
  for (const cloud of ACCOUNT_CLOUDS) registerCloud(account, cloud);
}

function registerCloud(account: Command, cloud: AccountCloud): void {
  const spec = SPECS[cloud];
  const command = account.command(cloud).description(`${cloud} accounts`);
  const withSettings = (c: Command, required: boolean) => {
    c.option('--name <name>', 'account name (jobs refer to it)');
    for (const s of spec.settings) c.option(s.flags, s.help);
    for (const o of spec.credentialOptions) c.addOption(o);
    addStoreOptions(c).option('--json', 'print the result as JSON');
    if (required) c.addHelpText('after', `\nSecrets come from a file or stdin (-), never from argv.\n\nExample:\n${spec.example}`);
    return c;
  };

  withSettings(command.command('add').description(`store a new ${cloud} account`), true).action(
    (flags: Record<string, string | undefined>) =>
      run(flags, async (store) => {
        const credentials = await spec.credentials(flags);
        return store.add(cloud, { ...settingsFrom(spec, flags), ...(flags.name && { name: flags.name }), ...(credentials !== undefined && { credentials }) });
      }, (s) => `added ${describe(s)}`),
  );
  withSettings(command.command('update').description(`change settings or credentials of a ${cloud} account`), false)
    .addHelpText('after', `\nOnly the given fields change; new credentials replace the stored ones.\n\nExample:\n  imagecast account ${cloud} update --name NAME --group release`)
    .action((flags: Record<string, string | undefined>) =>
      run(flags, async (store) => {
        const credentials = await spec.credentials(flags);
        return store.update(cloud, requireName(flags), { ...settingsFrom(spec, flags), ...(credentials !== undefined && { credentials }) });
      }, (s) => `updated ${describe(s)}`),
    );
  addStoreOptions(command.command('list').description(`list ${cloud} accounts (no secrets)`))
    .option('--json', 'print JSON')
    .addHelpText('after', `\nExample:\n  imagecast account ${cloud} list --json`)
    .action((flags: Record<string, string | undefined>) =>
      run(flags, (store) => store.list(cloud), (all) => all.map(describe).join('\n') || `no ${cloud} accounts`),
    );
  addStoreOptions(command.command('show').description(`show one ${cloud} account; secrets are never printed`))
    .requiredOption('--name <name>', 'account name')
    .option('--json', 'print JSON')
    .addHelpText('after', `\nExample:\n  imagecast account ${cloud} show --name NAME`)
    .action((flags: Record<string, string | undefined>) =>
      run(flags, (store) => store.describe(cloud, requireName(flags)), showText),
    );
  addStoreOptions(command.command('delete').description(`delete a ${cloud} account`))
    .requiredOption('--name <name>', 'account name')
    .option('--json', 'print JSON')
    .addHelpText('after', `\nExample:\n  imagecast account ${cloud} delete --name NAME`)
    .action((flags: Record<string, string | undefined>) =>
      run(flags, async (store) => {
        await store.remove(cloud, requireName(flags));
        return { deleted: `${cloud}/${flags.name}` };
      }, (r) => `deleted ${r.deleted}`),
    );
}

function settingsFrom(spec: CloudSpec, flags: Record<string, string | undefined>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const s of spec.settings) {
    const key = camel(s.flags.split(' ')[0]!.replace(/^--/, ''));
    const value = flags[key] as unknown;
    if (value === undefined) continue;
    out[s.field] = s.kind === 'list' ? String(value).split(',').map((v) => v.trim()).filter(Boolean) : value;
  }
  return out;
}

function camel(flag: string): string {
  return flag.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
}

function requireName(flags: Record<string, string | undefined>): string {
  if (!flags.name) throw new UsageError('--name: required');
  return flags.name;
}

function describe(s: AccountSummary): string {
  const where = [s.settings.partition, s.settings.region ?? s.settings.zone].filter(Boolean).join(' ');
  return `${s.cloud} account ${s.name}${where ? ` (${where})` : ''}${s.group ? ` group ${s.group}` : ''}: ${s.credentials.kind}, sealed with master key ${s.keyId}`;
}

function showText(s: AccountSummary): string {
  const lines = [`${s.cloud} account ${s.name}`];
  for (const [k, v] of Object.entries(s.settings)) lines.push(`  ${k}: ${Array.isArray(v) ? v.join(', ') : String(v)}`);
  for (const [k, v] of Object.entries(s.credentials)) lines.push(`  credentials.${k}: ${v}`);
  lines.push(`  master key: ${s.keyId}`, `  updated: ${s.updatedAt.toISOString()}`);
  return lines.join('\n');
}

/** Runs a store command: prints its result (text or --json) and sets the exit code; errors never echo input values. */
async function run<T>(
  flags: { databaseUrl?: string; json?: string | boolean },
  action: (store: Parameters<Parameters<typeof withStore>[1]>[0]) => Promise<T>,
  text: (result: T) => string,
): Promise<void> {
  await runCommand(flags, async () => {
    const result = await withStore(flags, action);
    console.log(flags.json ? JSON.stringify(result, null, 2) : text(result));
    return EXIT_OK;
  });
}

/** `--session-duration 1h` → seconds; the schema checks STS's 15 min – 12 h range and names the field. */
function sessionSeconds(text: string): number {
  const match = /^(\d+)([smh])$/.exec(text.trim());
  if (!match) throw new UsageError(`--session-duration: expected a duration such as 30m or 1h, got "${text}"`);
  return Number(match[1]) * { s: 1, m: 60, h: 3600 }[match[2] as 's' | 'm' | 'h'];
}
