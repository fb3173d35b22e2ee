import type { CloudImageOptions, ReleasePlan } from '../../schemas/release-plan.js';
import { formatIssues, imageLine, parseJob, type ReleaseJob } from '../../schemas/job/index.js';
import { ec2AllowCopy, ec2ShareWith, type Ec2Job } from '../../schemas/job/ec2.js';
import { partitionOfRegion, type Ec2Account } from '../../schemas/accounts.js';
import type { AccountDirectory } from '../accounts/account-directory.js';
import { nonRetryable } from './errors.js';

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
  if (job.tests.length > 0) {
    // Until the SSH test step exists a test list would be silently unmet: refuse it.
    throw nonRetryable('InvalidJob', '$.tests: image tests are not available yet; use "tests": [] for now');
  }
  const target = job.cloud === 'ec2' ? await ec2Target(job, accounts) : localTarget(job);
  return {
    cloud: job.cloud,
    ...target,
    imageNameTemplate: job.cloud_image_name,
    imageLine: imageLine(job.cloud_image_name),
    description: job.image_description,
    architecture: job.cloud_architecture,
    bootFirmware: job.boot_firmware,
    lastService: job.last_service,
    startAt: job.utctime === 'now' ? undefined : job.utctime,
    tests: job.tests,
    oldCloudImageName: job.old_cloud_image_name,
    cleanupImagesAfterTest: job.cleanup_images ?? true,
    source: {
      downloadUrl: job.download_url,
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
    imageOptions: { cloud: 'local' },
  };
}

/**
 * The account the job names (directly, in cloud_accounts or through its groups), its home
 * region (the job may override it) and the regions to copy to: the account's additional
 * regions and the job's, each once, all in the account's partition.
 */
async function ec2Target(job: Ec2Job, accounts: AccountDirectory): Promise<ReleaseTarget> {
  const { account, field, regionOverride } = await ec2Account(job, accounts);
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
  if (uploadMethod === 's3_import') {
    throw nonRetryable(
      'InvalidJob',
      `$.upload_method: s3_import (account "${account.name}" or the job) is not available yet; use ebs_direct`,
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
    },
  };
}

async function ec2Account(
  job: Ec2Job,
  accounts: AccountDirectory,
): Promise<{ account: Ec2Account; field: string; regionOverride?: string }> {
  if (job.cloud_account)
    return { account: await accounts.ec2Account(job.cloud_account), field: 'cloud_account' };
  if (job.cloud_accounts) {
    const [only, ...more] = job.cloud_accounts;
    if (more.length > 0)
      throw oneAccountPerJob(
        'cloud_accounts',
        job.cloud_accounts.map((a) => a.name),
      );
    return {
      account: await accounts.ec2Account(only!.name),
      field: 'cloud_accounts[0]',
      regionOverride: only!.region,
    };
  }
  const groups = job.cloud_groups ?? [];
  const members = (await Promise.all(groups.map((g) => accounts.ec2Group(g)))).flat();
  const names = [...new Set(members.map((a) => a.name))];
  if (names.length > 1) throw oneAccountPerJob('cloud_groups', names);
  return { account: members[0]!, field: 'cloud_groups' };
}

function oneAccountPerJob(field: string, names: string[]) {
  return nonRetryable(
    'InvalidJob',
    `$.${field}: names ${names.length} accounts (${names.join(', ')}); Imagecast releases one account per job: start one job per account (each is its own workflow, so they run in parallel)`,
  );
}
