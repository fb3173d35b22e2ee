import type { ReleasePlan } from '../../schemas/release-plan.js';
import { formatIssues, imageLine, parseJob, type ReleaseJob } from '../../schemas/job/index.js';
import { nonRetryable } from './errors.js';

/**
 * Validates a job document (the Web UI may start a release with anything) and turns it
 * into the cloud-neutral plan the workflow runs. Every problem is reported at once.
 */
export function planRelease(input: unknown): ReleasePlan {
  const parsed = parseJob(input);
  if (!parsed.ok) {
    throw nonRetryable('InvalidJob', `invalid job document:\n${formatIssues(parsed.issues)}`, { issues: parsed.issues });
  }
  return planFor(parsed.job);
}

function planFor(job: ReleaseJob): ReleasePlan {
  if (job.tests.length > 0) {
    // Until the SSH test step exists a test list would be silently unmet: refuse it.
    throw nonRetryable('InvalidJob', '$.tests: image tests are not available yet; use "tests": [] for now');
  }
  return {
    cloud: job.cloud,
    account: job.cloud_account,
    homeRegion: job.region,
    replicaRegions: job.additional_regions,
    imageNameTemplate: job.cloud_image_name,
    imageLine: imageLine(job.cloud_image_name),
    description: job.image_description,
    architecture: job.cloud_architecture,
    bootFirmware: job.boot_firmware,
    lastService: job.last_service,
    startAt: job.utctime === 'now' ? undefined : job.utctime,
    shareWith: job.share_with,
    allowCopy: job.allow_copy,
    tests: job.tests,
    oldCloudImageName: job.old_cloud_image_name,
    cleanupImagesAfterTest: job.cleanup_images ?? true,
    source: {
      downloadUrl: job.download_url,
      image: job.image,
      architecture: job.cloud_architecture,
      conditions: job.conditions,
      conditionsWaitSeconds: job.conditions_wait_time,
      disallowPackages: job.disallow_packages,
      disallowLicenses: job.disallow_licenses,
    },
  };
}
