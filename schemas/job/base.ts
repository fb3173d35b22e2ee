import { z } from 'zod';
import { imageCondition, lastService, nameTemplate, nonEmptyStrings, utctime } from './fields.js';

/** Fields every cloud's job document has, with SUSE mash's names and meanings. */
export const baseJobShape = {
  last_service: lastService,
  utctime,
  image: z.string().min(1).describe('Image name in the build service, before the architecture: for openSUSE-Leap-15.0-EC2-HVM.x86_64-1.0.0-Build1.206.raw.xz it is openSUSE-Leap-15.0-EC2-HVM.'),
  download_url: z
    .url({ protocol: /^(https?|file)$/ })
    .describe('Build-service directory holding the image, its .sha256 checksum file and its .packages manifest.'),
  download_type: z
    .literal('OBS', { error: 'only "OBS" downloads are supported yet (S3 comes with the EC2 provider)' })
    .default('OBS')
    .describe('Where the image comes from: OBS, a build-service directory.'),
  cloud_image_name: nameTemplate.describe(
    'Name of the image in the cloud. {date} becomes the UTC date of the release (20261125); Imagecast addition: {version} and {release} become the build\'s version and build release. The template also names the image line: releases of one template replace each other.',
  ),
  old_cloud_image_name: z.string().min(1).optional().describe('Name of the image this release deprecates; without it, the earlier releases of the same image line are deprecated.'),
  image_description: z.string().min(1).describe('Description of the image in the cloud.'),
  cloud_architecture: z.enum(['x86_64', 'aarch64']).default('x86_64').describe('Architecture of the image.'),
  conditions: z.array(imageCondition).default([]).describe('Conditions the build must meet before it is released; the release waits up to conditions_wait_time for a build that does.'),
  conditions_wait_time: z.number().int().min(0).default(900).describe('Seconds to wait for a build that meets the conditions before failing.'),
  disallow_packages: nonEmptyStrings.default([]).describe('Packages that must not be in the image (* wildcard).'),
  disallow_licenses: nonEmptyStrings.default([]).describe('Licenses no package in the image may have.'),
  boot_firmware: z.array(z.enum(['bios', 'uefi', 'uefi-preferred'])).default(['bios']).describe('Boot firmware the image supports.'),
  tests: nonEmptyStrings.default([]).describe('Tests to run on an instance of the image; a failing test fails the release.'),
  instance_type: z.string().min(1).optional().describe('Instance type for test instances.'),
  ssh_user: z.string().min(1).optional().describe('User for SSH connections to test instances.'),
  distro: z.enum(['opensuse_leap', 'sles', 'sle_micro']).optional().describe('Distribution, which selects test suites.'),
  cleanup_images: z.boolean().optional().describe('Whether to remove the images when last_service is test (default true).'),
  notification_email: z.email().optional().describe('Where to send the release notification.'),
  notify: z.boolean().optional().describe('Whether to send a notification when the release ends.'),
  dry_run: z.boolean().optional().describe('Only validate the document (imagecast job validate does this too).'),
  requesting_user: z.string().optional().describe('Who asked for the release (informational).'),
  job_id: z.string().optional().describe('A mash job id (informational).'),
};

/** mash fields we know but do not implement yet: rejected by name, never silently ignored. */
export const UNSUPPORTED_MASH_FIELDS = [
  'raw_image_upload_type',
  'raw_image_upload_location',
  'raw_image_upload_account',
  'additional_uploads',
  'use_build_time',
  'force_replace_image',
  'profile',
] as const;
