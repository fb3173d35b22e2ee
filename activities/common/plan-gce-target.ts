import type { GceJob } from '../../schemas/job/gce.js';
import type { GceImageOptions, ReleasePlan } from '../../schemas/release-plan.js';
import { RELEASE_STEPS, type ReleaseStep } from '../../schemas/steps.js';
import type { AccountDirectory } from '../accounts/account-directory.js';
import { nonRetryable } from './errors.js';

/** GCE images are global: the release has one "region", and nothing to copy. */
export const GCE_GLOBAL_REGION = 'global';

const runs = (job: GceJob, step: ReleaseStep) => RELEASE_STEPS.indexOf(job.last_service) >= RELEASE_STEPS.indexOf(step);

/**
 * Where a GCE release goes and with what, after mash's rules (utils/jobs/gce.py): bucket,
 * zone and testing account default from the account; a publishing account needs `family`
 * to create, and `testing_account` + `image_project` to test. Every account named is
 * checked to exist before anything starts.
 */
export async function gceTarget(job: GceJob, accounts: AccountDirectory) {
  const account = await accounts.gceAccount(job.cloud_account);
  const testingAccount = job.testing_account ?? account.testing_account;
  const testsRun = job.tests.length > 0 && runs(job, 'test');
  const problems: string[] = [];
  if (account.is_publishing_account && runs(job, 'create') && !job.family) {
    problems.push(`$.family: required: account "${account.name}" is a publishing account, and its images join a family`);
  }
  if (account.is_publishing_account && testsRun) {
    if (!testingAccount) problems.push(`$.testing_account: required to test images of publishing account "${account.name}"`);
    if (!job.image_project) problems.push(`$.image_project: required to test images of publishing account "${account.name}" (the project the test reads the image from)`);
  }
  if (problems.length > 0) throw nonRetryable('InvalidJob', `invalid job document:\n${problems.join('\n')}`);
  // Its existence, before an image is made that cannot be tested.
  if (testsRun && testingAccount && testingAccount !== account.name) await accounts.gceAccount(testingAccount);

  const uefi = job.boot_firmware.some((f) => f === 'uefi' || f === 'uefi-preferred');
  const features = [...(job.guest_os_features ?? [])];
  if (uefi && !features.includes('UEFI_COMPATIBLE')) features.push('UEFI_COMPATIBLE');
  const imageOptions: GceImageOptions = {
    cloud: 'gce',
    bucket: job.bucket ?? account.bucket,
    ...(job.family && { family: job.family }),
    guestOsFeatures: features,
    licenses: job.licenses ?? [],
    monthsToDeletion: job.months_to_deletion,
    testZone: job.region ?? account.zone,
    testFallbackZones: job.test_fallback_regions ?? [],
    ...(testingAccount && testingAccount !== account.name && { testingAccount }),
    ...(job.image_project && { imageProject: job.image_project }),
    forceReplace: job.force_replace_image,
    skipRollout: job.skip_rollout ?? false,
  };
  return {
    account: account.name,
    homeRegion: GCE_GLOBAL_REGION,
    replicaRegions: [] as string[],
    shareWith: job.share_with satisfies ReleasePlan['shareWith'],
    allowCopy: false,
    imageOptions,
  };
}
