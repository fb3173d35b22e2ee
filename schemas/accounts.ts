import { z } from 'zod';
import './zod-messages.js';
import {
  AZURE_CONTAINER_PATTERN,
  AZURE_REGION_PATTERN,
  AZURE_RESOURCE_GROUP_PATTERN,
  AZURE_STORAGE_ACCOUNT_PATTERN,
} from './job/azure-names.js';
import { EC2_REGION_PATTERN } from './job/ec2.js';

export const AWS_PARTITIONS = ['aws', 'aws-cn', 'aws-us-gov'] as const;
export type AwsPartition = (typeof AWS_PARTITIONS)[number];

/** The partition a region belongs to, by its name (cn-* and us-gov-* are their own partitions). */
export function partitionOfRegion(region: string): AwsPartition {
  if (region.startsWith('cn-')) return 'aws-cn';
  if (region.startsWith('us-gov-')) return 'aws-us-gov';
  return 'aws';
}

const accountName = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/, 'letters, digits, ".", "_" and "-", at most 64');

const ec2Region = z.string().regex(EC2_REGION_PATTERN, 'an AWS region name such as us-east-1');

/** Long-lived keys of an IAM user (mash's model). */
const ec2AccessKeys = z
  .object({
    access_key_id: z.string().regex(/^[A-Z0-9]{16,128}$/, 'an AWS access key id (AKIA…)'),
    secret_access_key: z.string().min(16, 'an AWS secret access key (40 characters)'),
  })
  .strict();

/**
 * A role Imagecast assumes in the customer's account (the OBS cloud-upload model): no
 * customer keys are stored, only the role and the external id the customer's trust policy
 * requires, so a confused deputy cannot use the role through us.
 */
const roleArn = z
  .string()
  .regex(/^arn:aws(-cn|-us-gov)?:iam::[0-9]{12}:role\/[\w+=,.@/-]+$/, 'an IAM role ARN: arn:aws:iam::123456789012:role/NAME');

const ec2AssumedRole = z
  .object({
    role_arn: roleArn,
    external_id: z.string().min(2).max(1224).describe('The sts:ExternalId the role trust policy requires.'),
  })
  .strict();

/**
 * Keyless: a role assumed with an OIDC token from a file (AssumeRoleWithWebIdentity), such as
 * a Kubernetes projected service-account token (EKS IRSA / pod identity write it where
 * AWS_WEB_IDENTITY_TOKEN_FILE points). Nothing secret is stored: the file is read each time
 * credentials are renewed, because the platform rotates it.
 */
const ec2WebIdentity = z
  .object({
    role_arn: roleArn,
    web_identity_token_file: z.string().regex(/^\//, 'an absolute path, e.g. /var/run/secrets/eks.amazonaws.com/serviceaccount/token'),
    session_duration_seconds: z
      .number()
      .int()
      .min(900, 'at least 900 (STS minimum)')
      .max(43200, 'at most 43200 (12 h, the STS maximum)')
      .optional()
      .describe('Lifetime of each set of credentials; default 3600. They are renewed before they expire.'),
  })
  .strict();

export const ec2AccountSchema = z
  .object({
    name: accountName,
    partition: z.enum(AWS_PARTITIONS).default('aws'),
    region: ec2Region.describe('Home region: the image is uploaded, registered and tested here.'),
    additional_regions: z
      .array(ec2Region)
      .default([])
      .describe('Regions every release of this account is copied to.'),
    group: z
      .string()
      .min(1)
      .optional()
      .describe('The account group (jobs may name a group instead of an account).'),
    subnet: z.string().min(1).optional().describe('Subnet for test instances.'),
    upload_method: z.enum(['ebs_direct', 's3_import']).default('ebs_direct'),
    import_bucket: z.string().min(3).optional().describe('S3 bucket for the s3_import upload method.'),
    credentials: z.union([ec2AccessKeys, ec2AssumedRole, ec2WebIdentity], {
      error: 'either {access_key_id, secret_access_key}, {role_arn, external_id} or {role_arn, web_identity_token_file}',
    }),
  })
  .strict()
  .superRefine((account, ctx) => {
    for (const [i, region] of [account.region, ...account.additional_regions].entries()) {
      if (partitionOfRegion(region) !== account.partition) {
        ctx.addIssue({
          code: 'custom',
          path: i === 0 ? ['region'] : ['additional_regions', i - 1],
          message: `${region} is not in the ${account.partition} partition`,
        });
      }
    }
    if (account.upload_method === 's3_import' && !account.import_bucket) {
      ctx.addIssue({
        code: 'custom',
        path: ['import_bucket'],
        message: 'required when upload_method is s3_import',
      });
    }
  });

export type Ec2Account = z.infer<typeof ec2AccountSchema>;

// ---- GCE accounts (service account key, or keyless: workload identity federation) ----

const gcpProjectId = z.string().regex(/^[a-z][-a-z0-9]{4,28}[a-z0-9]$/, 'a GCP project id such as my-project-123');

/**
 * A Google service account key file (`gcloud iam service-accounts keys create`), with the
 * keys mash requires (mash/services/api/v1/schema/accounts/gce.py).
 */
const gceServiceAccountKey = z.looseObject({
  type: z.literal('service_account'),
  project_id: gcpProjectId,
  private_key_id: z.string().min(1),
  private_key: z.string().regex(/-----BEGIN PRIVATE KEY-----/, 'a PEM private key'),
  client_email: z.string().email(),
  client_id: z.string().min(1),
  auth_uri: z.string().url(),
  token_uri: z.string().url(),
  auth_provider_x509_cert_url: z.string().url(),
  client_x509_cert_url: z.string().url(),
  universe_domain: z.string().min(1).optional(),
});

/**
 * google-auth-library sends the subject token to `token_url` and the STS token to
 * `service_account_impersonation_url` without checking either (its fromJSON warns that a
 * configuration with a foreign URL leaks the token), so we do: Google's API hosts over https,
 * or loopback (a local fake, as the tests use).
 */
function isGoogleOrLoopbackUrl(text: string): boolean {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return false;
  }
  if (['127.0.0.1', 'localhost', '[::1]'].includes(url.hostname)) return url.protocol === 'http:' || url.protocol === 'https:';
  return url.protocol === 'https:' && (url.hostname === 'googleapis.com' || url.hostname.endsWith('.googleapis.com'));
}

const googleUrl = (example: string) =>
  z.string().refine(isGoogleOrLoopbackUrl, `an https URL on googleapis.com such as ${example} (or a loopback URL, for a local fake)`);

/** The credential sources gcloud can write that Imagecast does not read, each refused by name. */
const UNSUPPORTED_SOURCES: Record<string, string> = {
  url: 'a subject token fetched from a URL',
  executable: 'a subject token from an executable, pluggable auth',
  environment_id: 'an AWS-sourced configuration',
  certificate: 'an X.509 certificate (mTLS)',
};

/**
 * Only file-sourced tokens: a path read at each refresh, which the platform (a Kubernetes
 * projected token, a CI's OIDC token written to disk) keeps fresh. Other sources are refused
 * before the object is checked, so the message names the source instead of "file: required".
 */
const gceCredentialSource = z.preprocess(
  (source, ctx) => {
    if (source && typeof source === 'object') {
      for (const key of Object.keys(source).filter((k) => k in UNSUPPORTED_SOURCES)) {
        ctx.issues.push({
          code: 'custom',
          path: [key],
          input: key,
          message: `not supported (${UNSUPPORTED_SOURCES[key]}): Imagecast reads the subject token only from a file, credential_source.file (gcloud iam workload-identity-pools create-cred-config … --credential-source-file=ABSOLUTE_PATH)`,
        });
      }
    }
    return source;
  },
  z
    .object({
      file: z.string().regex(/^\//, 'an absolute path of the subject token file, e.g. /var/run/secrets/tokens/gcp-token'),
      format: z
        .discriminatedUnion('type', [
          z.object({ type: z.literal('text') }).strict(),
          z.object({ type: z.literal('json'), subject_token_field_name: z.string().min(1, 'the name of the field holding the token') }).strict(),
        ], { error: (i) => (i.code === 'invalid_union' ? '"text" (the file is the token) or "json" (with subject_token_field_name)' : undefined) })
        .optional(),
    })
    .strict(),
);

/**
 * Keyless: a google-auth-library `external_account` credential configuration, as `gcloud iam
 * workload-identity-pools create-cred-config PROVIDER --credential-source-file=PATH
 * [--service-account=EMAIL] --output-file=FILE` writes it for a workload identity pool. It
 * holds no secret: the token in the file is exchanged at Google's STS at each refresh.
 * Workforce pools (people, not workloads) and non-file sources are refused.
 */
const gceExternalAccount = z
  .object({
    type: z.literal('external_account'),
    audience: z
      .string()
      .regex(
        /^\/\/iam\.googleapis\.com\/projects\/\d+\/locations\/global\/workloadIdentityPools\/[a-z0-9-]+\/providers\/[a-z0-9-]+$/,
        'a workload identity provider: //iam.googleapis.com/projects/NUMBER/locations/global/workloadIdentityPools/POOL/providers/PROVIDER',
      ),
    subject_token_type: z.enum(
      ['urn:ietf:params:oauth:token-type:jwt', 'urn:ietf:params:oauth:token-type:id_token', 'urn:ietf:params:oauth:token-type:saml2'],
      { error: 'urn:ietf:params:oauth:token-type:jwt (an OIDC token), …:id_token or …:saml2' },
    ),
    token_url: googleUrl('https://sts.googleapis.com/v1/token').optional().describe('Default https://sts.googleapis.com/v1/token.'),
    credential_source: gceCredentialSource,
    service_account_impersonation_url: z
      .string()
      .regex(/\/v1\/projects\/-\/serviceAccounts\/[^/:]+:generateAccessToken$/, 'https://iamcredentials.googleapis.com/v1/projects/-/serviceAccounts/EMAIL:generateAccessToken')
      .pipe(googleUrl('https://iamcredentials.googleapis.com/v1/projects/-/serviceAccounts/EMAIL:generateAccessToken'))
      .optional()
      .describe('The federated identity acts as this service account (gcloud --service-account); without it, it is granted roles itself.'),
    service_account_impersonation: z
      .object({ token_lifetime_seconds: z.number().int().min(600, 'at least 600').max(43200, 'at most 43200 (12 h)') })
      .strict()
      .optional(),
    universe_domain: z.literal('googleapis.com', { error: 'googleapis.com (other universes are not supported)' }).optional(),
  })
  .strict();

export type GceExternalAccount = z.infer<typeof gceExternalAccount>;

/** A GCE zone: us-east1-b, europe-west4-a, me-central2-c. */
export const GCE_ZONE_PATTERN = /^[a-z]+-[a-z]+\d+-[a-z]$/;

export const gceAccountSchema = z
  .object({
    name: accountName,
    zone: z
      .string()
      .max(32)
      .regex(GCE_ZONE_PATTERN, 'a GCE zone such as us-east1-b')
      .describe("mash's account `region`: the zone test instances run in (images themselves are global)."),
    bucket: z.string().regex(/^[a-z0-9][-a-z0-9_.]{1,220}[a-z0-9]$/, 'a GCS bucket name (3-222 lowercase letters, digits, "-", "_", ".")').describe('GCS bucket the disk tarball is uploaded to.'),
    project: gcpProjectId
      .optional()
      .describe("The project images are made in. Default: a service account key's project_id; required with external_account credentials, which name none."),
    is_publishing_account: z.boolean().default(false).describe('mash: images go to a public project; jobs need family, and tests a testing_account and image_project.'),
    testing_account: accountName.optional().describe('mash: the account (project) test instances run in.'),
    group: z.string().min(1).optional(),
    credentials: z.discriminatedUnion('type', [gceServiceAccountKey, gceExternalAccount], {
      error: (issue) =>
        issue.code === 'invalid_union'
          ? 'must be "service_account" (a service account key file) or "external_account" (a workload identity federation credential configuration)'
          : undefined,
    }),
  })
  .strict()
  .superRefine((account, ctx) => {
    if (account.is_publishing_account && !account.testing_account) {
      ctx.addIssue({
        code: 'custom',
        path: ['testing_account'],
        message: 'required for a publishing account: its images are tested in another project (mash refuses it too)',
      });
    }
    if (account.credentials.type === 'external_account' && !account.project) {
      ctx.addIssue({
        code: 'custom',
        path: ['project'],
        message: 'required with external_account (keyless) credentials: they name no project (CLI: --project ID)',
      });
    }
  });

/** The project an account's images are made in: `project`, or its key's project_id. */
export function gceProjectOf(account: GceAccount): string {
  if (account.project) return account.project;
  if (account.credentials.type === 'service_account') return account.credentials.project_id;
  throw new Error(`account ${account.name}: project is required with external_account credentials`);
}

// ---- end of GCE accounts ----

export type GceAccount = z.infer<typeof gceAccountSchema>;

const GUID = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;
const guid = (what: string) => z.string().regex(GUID, `${what}: a GUID such as 8f3c2a10-0000-4000-8000-000000000000`);
const endpoint = z.url({ protocol: /^https?$/ }).optional();

/**
 * An Azure service principal as `az ad sp create-for-rbac --sdk-auth` prints it. mash requires
 * the endpoint URLs too; they are optional here because the public cloud's are the SDKs'
 * defaults, and a file that names them (another cloud, or a test's fake) is read as it is.
 */
const azureServicePrincipal = z.looseObject({
  clientId: guid('the application (client) id'),
  clientSecret: z.string().min(1, 'the client secret; must not be empty'),
  subscriptionId: guid('the subscription id'),
  tenantId: guid('the directory (tenant) id'),
  activeDirectoryEndpointUrl: endpoint,
  resourceManagerEndpointUrl: endpoint,
  activeDirectoryGraphResourceId: endpoint,
  sqlManagementEndpointUrl: endpoint,
  galleryEndpointUrl: endpoint,
  managementEndpointUrl: endpoint,
});

/**
 * Keyless: a Microsoft Entra app (or user-assigned managed identity) with a federated
 * identity credential, signing in with an OIDC token from a file: the shape AKS workload
 * identity gives (AZURE_TENANT_ID, AZURE_CLIENT_ID, AZURE_FEDERATED_TOKEN_FILE). Nothing
 * secret is stored; the file is read for every new access token, because the platform
 * rotates it. Strict, so a stray clientSecret is refused rather than silently kept.
 */
const azureWorkloadIdentity = z
  .object({
    tenantId: guid('the directory (tenant) id'),
    clientId: guid('the application (client) id of the app or managed identity with the federated credential'),
    subscriptionId: guid('the subscription id'),
    federated_token_file: z
      .string()
      .regex(/^\//, 'an absolute path, e.g. /var/run/secrets/azure/tokens/azure-identity-token'),
    activeDirectoryEndpointUrl: endpoint,
    resourceManagerEndpointUrl: endpoint,
  })
  .strict();

/** Says which variant was meant where the other one is what the person may have wanted. */
function variantMessage(issue: z.core.$ZodIssue, federated: boolean): string {
  if (federated && issue.code === 'unrecognized_keys') {
    return `not part of a workload identity: ${issue.keys.join(', ')} (it takes tenantId, clientId, subscriptionId, federated_token_file and the endpoint URLs; nothing secret)`;
  }
  if (!federated && issue.path.length === 1 && issue.path[0] === 'clientSecret' && issue.message === 'required') {
    return 'required for a service principal (or give federated_token_file for a keyless workload identity)';
  }
  return issue.message;
}

export type AzureServicePrincipal = z.infer<typeof azureServicePrincipal>;
export type AzureWorkloadIdentity = z.infer<typeof azureWorkloadIdentity>;

/** Keyless? (A service principal's type has an index signature, so `in` cannot tell them apart for tsc.) */
export function isAzureWorkloadIdentity(c: AzureServicePrincipal | AzureWorkloadIdentity): c is AzureWorkloadIdentity {
  return typeof c.federated_token_file === 'string';
}

/**
 * A workload identity when `federated_token_file` is present, else a service principal.
 * Chosen by that key rather than by z.union, whose failure is one "Invalid input" for both
 * variants: here the problems are those of the variant meant, each at its field.
 */
const azureCredentials = z.unknown().transform((value, ctx): AzureServicePrincipal | AzureWorkloadIdentity => {
  const federated = typeof value === 'object' && value !== null && 'federated_token_file' in value;
  const parsed = (federated ? azureWorkloadIdentity : azureServicePrincipal).safeParse(value);
  if (parsed.success) return parsed.data;
  for (const issue of parsed.error.issues) {
    ctx.addIssue({ code: 'custom', message: variantMessage(issue, federated), path: issue.path, input: undefined });
  }
  return z.NEVER;
});

/**
 * mash's Azure account (mash/services/api/v1/schema/accounts/azure.py): where images are
 * uploaded and made, with Azure's name grammars (schemas/job/azure-names.ts) in place of
 * mash's database column limits (container 64, resource group 90, storage account 24).
 */
export const azureAccountSchema = z
  .object({
    name: accountName,
    region: z.string().regex(AZURE_REGION_PATTERN, 'an Azure region such as westeurope').describe('Where images are made and tested.'),
    source_container: z
      .string()
      .regex(AZURE_CONTAINER_PATTERN, 'a blob container name: 3-63 lower-case letters, digits and "-", starting with a letter or digit, no "--"')
      .describe('Blob container the VHD is uploaded to.'),
    source_resource_group: z
      .string()
      .regex(AZURE_RESOURCE_GROUP_PATTERN, 'an Azure resource group name: 1-90 letters, digits, "_", "-", ".", "(" and ")", not ending with "."')
      .describe('Resource group of the storage account and of managed images.'),
    source_storage_account: z
      .string()
      .regex(AZURE_STORAGE_ACCOUNT_PATTERN, 'a storage account name: 3-24 lower-case letters and digits')
      .describe('Storage account holding source_container.'),
    group: z.string().min(1).optional(),
    credentials: azureCredentials,
  })
  .strict();

export type AzureAccount = z.infer<typeof azureAccountSchema>;

export const ACCOUNT_CLOUDS = ['ec2', 'gce', 'azure'] as const;
export type AccountCloud = (typeof ACCOUNT_CLOUDS)[number];

/** The account schema per cloud: settings plus `credentials`, the one secret field. */
export const accountSchemas = { ec2: ec2AccountSchema, gce: gceAccountSchema, azure: azureAccountSchema } as const;
export type CloudAccount<C extends AccountCloud = AccountCloud> = z.infer<(typeof accountSchemas)[C]>;

/** The accounts file a worker may read (`IMAGECAST_ACCOUNTS_FILE`): accounts per cloud. */
export const accountsFileSchema = z
  .object({
    ec2: z.array(ec2AccountSchema).default([]),
    gce: z.array(gceAccountSchema).default([]),
    azure: z.array(azureAccountSchema).default([]),
  })
  .strict();

export type AccountsFile = z.infer<typeof accountsFileSchema>;
