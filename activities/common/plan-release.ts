import type { CloudImageOptions, ReleasePlan } from '../../schemas/release-plan.js';
import { formatIssues, imageLine, parseJob, type ReleaseJob } from '../../schemas/job/index.js';
import { ec2AllowCopy, ec2ShareWith, type Ec2Job } from '../../schemas/job/ec2.js';
import { partitionOfRegion, type Ec2Account } from '../../schemas/accounts.js';
import type { AccountDirectory } from '../accounts/account-directory.js';
import { nonRetryable } from './errors.js';
import { azureTarget } from './plan-azure-target.js';
import { gceTarget } from './plan-gce-target.js';

/** Where a release goes: one account, its home region and the regions it is copied to. */
interface ReleaseTarget {
  account: string;
  homeRegion: string;
  replicaRegions: string[];
  shareWith: ReleasePlan['shareWith'];
  allowCopy: boolean;
  imageOptions: CloudImageOptions;
}

/**
 * Validates a job document (the Web UI may start a release with anything) and turns it
 * into the cloud-neutral plan the workflow runs. Every problem is reported at once. Account
 * names are resolved to regions here; credentials are not read.
 */
export async function planRelease(input: unknown, accounts: AccountDirectory): Promise<ReleasePlan> {
  const parsed = parseJob(input);
  if (!parsed.ok) {
    throw nonRetryable('InvalidJob', `invalid job document:\n${formatIssues(parsed.issues)}`, {
      issues: parsed.issues,
    });
  }
  const job = parsed.job;
  let target: ReleaseTarget;
  let accountReleases: ReleasePlan['accountReleases'];
  if (job.cloud === 'ec2') {
    // Every account is checked (and its regions planned) before anything starts.
    const choices = await ec2Accounts(job, accounts);
    const targets = choices.map((choice) => ec2Target(job, choice));
    target = targets[0]!;
    if (choices.length > 1) {
      accountReleases = choices.map((c) => ({ account: c.account.name, job: narrowedToAccount(input, c.ref) }));
    }
  } else if (job.cloud === 'gce') {
    target = await gceTarget(job, accounts);
  } else if (job.cloud === 'azure') {
    target = await azureTarget(job, accounts);
  } else {
    target = localTarget(job);
  }
  return {
    cloud: job.cloud,
    ...target,
    ...(accountReleases && { accountReleases }),
    ...(job.notify && { notify: { emails: job.notification_email ? [job.notification_email] : [] } }),
    imageNameTemplate: job.cloud_image_name,
    imageLine: imageLine(job.cloud_image_name),
    description: job.image_description,
    architecture: job.cloud_architecture,
    bootFirmware: job.boot_firmware,
    lastService: job.last_service,
    dryRun: job.dry_run === true,
    ...(job.use_build_time && { useBuildTime: true }),
    startAt: job.utctime === 'now' || job.utctime === 'always' ? undefined : job.utctime,
    tests: job.tests.map((t) =>
      typeof t === 'string'
        ? { name: t }
        : { name: t.name, command: t.command, expectExitCode: t.expect_exit_code, timeoutSeconds: t.timeout_seconds, ...(t.expect_output && { expectOutput: t.expect_output }) },
    ),
    ...((job.instance_type || job.ssh_user) && { testInstance: { instanceType: job.instance_type, sshUser: job.ssh_user } }),
    oldCloudImageName: job.old_cloud_image_name,
    ...(job.raw_image_upload_type &&
      job.raw_image_upload_account &&
      job.raw_image_upload_location && {
        rawImageUpload: {
          type: job.raw_image_upload_type,
          account: job.raw_image_upload_account,
          location: job.raw_image_upload_location,
          additionalUploads: job.additional_uploads ?? [],
        },
      }),
    ...(job.image_lists?.length && { imageLists: job.image_lists }),
    cleanupImagesAfterTest: job.cleanup_images ?? true,
    onFailure: {
      policy: job.on_failure,
      blockTimeoutSeconds: job.block_timeout,
      onTimeout: job.on_block_timeout,
      remindEverySeconds: job.block_reminder,
    },
    source: {
      downloadUrl: job.download_url,
      ...(job.download_type === 'S3' && { downloadType: 'S3' as const, downloadAccount: job.download_account }),
      image: job.image,
      profile: job.profile,
      architecture: job.cloud_architecture,
      conditions: job.conditions,
      conditionsWaitSeconds: job.conditions_wait_time,
      disallowPackages: job.disallow_packages,
      disallowLicenses: job.disallow_licenses,
    },
  };
}

function localTarget(job: Extract<ReleaseJob, { cloud: 'local' }>): ReleaseTarget {
  return {
    account: job.cloud_account,
    homeRegion: job.region,
    replicaRegions: job.additional_regions,
    shareWith: job.share_with,
    allowCopy: job.allow_copy,
    imageOptions: { cloud: 'local', ...(job.force_replace_image && { forceReplace: true }) },
  };
}

/**
 * One account's home region (the job may override it) and the regions to copy to: the
 * account's additional regions and the job's, each once, all in the account's partition.
 */
function ec2Target(job: Ec2Job, { account, field, regionOverride }: Ec2AccountChoice): ReleaseTarget {
  const homeRegion = regionOverride ?? account.region;
  const requested = [
    ...account.additional_regions,
    ...job.additional_regions.map((r) => (typeof r === 'string' ? r : r.name)),
  ];
  const replicaRegions = job.skip_replication ? [] : [...new Set(requested)].filter((r) => r !== homeRegion);
  for (const region of [homeRegion, ...replicaRegions]) {
    if (partitionOfRegion(region) !== account.partition) {
      throw nonRetryable(
        'InvalidJob',
        `$.${field}: account "${account.name}" is in the ${account.partition} partition, which has no region ${region}`,
      );
    }
  }
  const uploadMethod = job.upload_method ?? account.upload_method;
  if (uploadMethod === 's3_import' && !account.import_bucket) {
    throw nonRetryable(
      'InvalidJob',
      `$.upload_method: s3_import needs an S3 bucket, and account "${account.name}" has no import_bucket; add one (in ${homeRegion}) or use ebs_direct`,
    );
  }
  const shareWith = ec2ShareWith(job.share_with);
  return {
    account: account.name,
    homeRegion,
    replicaRegions,
    shareWith,
    allowCopy: job.allow_copy !== 'none',
    imageOptions: {
      cloud: 'ec2',
      uploadMethod,
      rootVolumeSizeGiB: job.root_volume_size,
      enaSupport: job.ena_support,
      sriovSupport: job.sriov_support,
      tpmSupport: job.tpm_support,
      imdsSupport: job.imds_support,
      billingCodes: job.billing_codes ? job.billing_codes.split(',') : [],
      copyPermission: ec2AllowCopy(job.allow_copy, job.share_with),
      ...(job.image_tags && { imageTags: job.image_tags }),
      ...(job.force_replace_image && { forceReplace: true }),
      ...(job.cpu_options && { cpuOptions: job.cpu_options }),
    },
  };
}

/** Every account the job names (directly, in cloud_accounts or through its groups), each once. */
async function ec2Accounts(job: Ec2Job, accounts: AccountDirectory): Promise<Ec2AccountChoice[]> {
  if (job.cloud_account)
    return [{ account: await accounts.ec2Account(job.cloud_account), field: 'cloud_account', ref: { name: job.cloud_account } }];
  if (job.cloud_accounts) {
    const names = job.cloud_accounts.map((a) => a.name);
    const twice = names.find((n, i) => names.indexOf(n) !== i);
    if (twice) throw nonRetryable('InvalidJob', `$.cloud_accounts: names account "${twice}" twice`);
    return Promise.all(
      job.cloud_accounts.map(async (ref, i) => ({
        account: await accounts.ec2Account(ref.name),
        field: `cloud_accounts[${i}]`,
        regionOverride: ref.region,
        // The entry as the job wrote it (region and subnet overrides stay with the account).
        ref: JSON.parse(JSON.stringify(ref)) as Ec2AccountChoice['ref'],
      })),
    );
  }
  const groups = job.cloud_groups ?? [];
  const members = (await Promise.all(groups.map((g) => accounts.ec2Group(g)))).flat();
  const unique = members.filter((a, i) => members.findIndex((b) => b.name === a.name) === i);
  return unique.map((account) => ({ account, field: 'cloud_groups', ref: { name: account.name } }));
}

interface Ec2AccountChoice {
  account: Ec2Account;
  /** Where the job names it, for error messages. */
  field: string;
  regionOverride?: string;
  /** The account as a one-entry `cloud_accounts` list names it. */
  ref: { name: string; region?: string; subnet?: string };
}

/**
 * The job as one account's release sees it: the same document with only that account in
 * `cloud_accounts`, so the child release plans, and can be read in the Web UI, on its own.
 */
function narrowedToAccount(input: unknown, ref: Ec2AccountChoice['ref']): Record<string, unknown> {
  const { cloud_account: _a, cloud_accounts: _b, cloud_groups: _g, ...rest } = input as Record<string, unknown>;
  return { ...rest, cloud_accounts: [ref] };
}
