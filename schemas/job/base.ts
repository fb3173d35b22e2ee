import { z } from 'zod';
import { imageTestSchema } from '../image-tests.js';
import { imageCondition, lastService, nameTemplate, nonEmptyStrings, utctime } from './fields.js';
import { LIMITS } from './limits.js';
import { rawUploadShape } from './raw-upload-fields.js';
import { imageListShape } from './image-list-fields.js';
import { downloadAccountField } from './s3-download-fields.js';

/** Fields every cloud's job document has, with SUSE mash's names and meanings. */
export const baseJobShape = {
  last_service: lastService,
  utctime,
  image: z
    .string()
    .min(1)
    .max(LIMITS.name)
    .meta({
      description:
        'The image file name in the build service up to the architecture: for openSUSE-Leap-15.0-EC2-HVM.x86_64-1.0.0-Build1.206.raw.xz it is openSUSE-Leap-15.0-EC2-HVM. The newest matching build in download_url is released.',
      examples: ['openSUSE-Leap-15.0-EC2-HVM'],
    }),
  profile: z
    .string()
    .max(LIMITS.name)
    .regex(/^[A-Za-z0-9_.+]+$/, 'a kiwi profile name: letters, digits, "_", "." and "+"')
    .optional()
    .meta({
      description:
        'The kiwi profile (OBS multibuild flavour) of the image: its file name carries it after the version, e.g. NAME.x86_64-1.0.0-Azure-Build1.2.raw.xz for profile Azure.',
      examples: ['Azure'],
    }),
  download_url: z
    .url({
      protocol: /^(https?|file|s3)$/,
      error: (issue) =>
        issue.code === 'invalid_format'
          ? 'an http://, https:// or file:// URL of the build-service directory (download_type "S3": s3://BUCKET/OBJECT_KEY)'
          : undefined,
    })
    .max(LIMITS.url)
    .meta({
      description:
        'The build-service directory (http, https or file URL) holding the image, its .sha256/.sha512 checksum file and its .packages manifest; with download_type "S3", the image object itself: s3://BUCKET/OBJECT_KEY.',
      examples: ['https://download.opensuse.org/repositories/Cloud:/Images:/Leap_15.0/images/', 's3://my-builds/images/sles-15.x86_64-1.0.0-Build1.2.raw.xz'],
    }),
  download_type: z
    .enum(['OBS', 'S3'])
    .default('OBS')
    .describe(
      'Where the image comes from: "OBS", a build-service directory (download_url); "S3", one object s3://BUCKET/OBJECT_KEY read with download_account\'s keys. An S3 image is verified against OBJECT_KEY.sha256 beside it, else the SHA-256 S3 stored for the object; with neither, the upload computes its sha256 and the release marks that checksum computed, not verified (a corrupted read goes undetected: publish OBJECT_KEY.sha256 to avoid it); conditions and disallow_* need a build service and are refused with "S3".',
    ),
  download_account: downloadAccountField,
  cloud_image_name: nameTemplate.meta({
    description:
      "The image's name in the cloud. {date} becomes the UTC date the release starts (YYYYMMDD). Imagecast addition: {version} and {release} become the resolved build's kiwi version and build-service release. The template itself names the image line: releases of one template replace each other.",
    examples: ['openSUSE-Leap-15.0-v{date}-hvm-ssd-x86_64', 'sles-15-sp6-v{date}-b{release}'],
  }),
  old_cloud_image_name: z
    .string()
    .min(1)
    .max(LIMITS.name)
    .optional()
    .meta({
      description:
        'The name of the image this release deprecates. Imagecast addition: without it, the earlier active releases of the same image line are deprecated.',
      examples: ['openSUSE-Leap-15.0-v20190313-hvm-ssd-x86_64'],
    }),
  image_description: z
    .string()
    .min(1)
    .max(LIMITS.description)
    .meta({
      description: 'The description of the image in the cloud.',
      examples: ['openSUSE Leap 15.0 (HVM, 64-bit, SSD-Backed)'],
    }),
  cloud_architecture: z
    .enum(['x86_64', 'aarch64'])
    .default('x86_64')
    .describe('The architecture of the image.'),
  conditions: z
    .array(imageCondition)
    .max(LIMITS.listItems)
    .default([])
    .describe(
      'Conditions the build must meet before it is released, e.g. a minimum kernel-default version. When the newest build does not meet them the release waits up to conditions_wait_time for one that does.',
    ),
  conditions_wait_time: z
    .number()
    .int()
    .min(0)
    .default(900)
    .meta({
      description: 'Seconds to wait for a build that meets the conditions before failing the release.',
      examples: [900],
    }),
  disallow_packages: nonEmptyStrings.default([]).meta({
    description: 'Packages that must not be in the image (from its .packages manifest); * is a wildcard.',
    examples: [['*-mini']],
  }),
  disallow_licenses: nonEmptyStrings
    .default([])
    .meta({ description: 'Licenses no package in the image may have.', examples: [['MIT']] }),
  boot_firmware: z
    .array(z.enum(['bios', 'uefi', 'uefi-preferred']))
    .default(['bios'])
    .describe('The boot firmware the image supports and is tested with; an empty list means bios.'),
  tests: z
    .array(imageTestSchema)
    .max(LIMITS.listItems)
    .default([])
    .meta({
      description:
        'Tests run over SSH on an instance launched from the new image: named tests (img-proof names) or {name, command, expect_exit_code, expect_output, timeout_seconds}. A failing test fails the release and the new image is removed.',
      examples: [['test_hostname', { name: 'has-curl', command: 'curl --version', expect_output: '^curl ' }]],
    }),
  instance_type: z
    .string()
    .min(1)
    .max(LIMITS.name)
    .optional()
    .meta({ description: 'The instance type for test instances.', examples: ['t3.small'] }),
  ssh_user: z
    .string()
    .min(1)
    .max(LIMITS.userName)
    .optional()
    .meta({ description: 'The user for SSH connections to test instances.', examples: ['ec2-user'] }),
  distro: z
    .enum(['opensuse_leap', 'sles', 'sle_micro', 'rhel'])
    .optional()
    .describe(
      "mash: the distribution img-proof tests as. Informational in Imagecast: its named tests do not depend on it (test_sles checks for SLES on the instance itself).",
    ),
  cleanup_images: z
    .boolean()
    .optional()
    .describe(
      'Whether to remove the images made; by default they are removed when last_service is test or when the release fails.',
    ),
  notification_email: z
    .email()
    .max(LIMITS.email)
    .optional()
    .meta({
      description: 'Where to send the notification when the release ends.',
      examples: ['releases@example.com'],
    }),
  notify: z.boolean().optional().describe('Whether to send a notification when the release ends.'),
  dry_run: z
    .boolean()
    .optional()
    .describe(
      'Make nothing: resolve the build, check its conditions, run the release\'s preflight (credentials, regions enabled, public sharing, the image name free in every region), and report what the release would create, share and deprecate; any preflight problem fails the dry run.',
    ),
  on_failure: z
    .enum(['block', 'abort'])
    .default('block')
    .describe(
      'What a release does when a region of the replicate step fails and retries did not cure it (quota, permission, a region down). block: it waits, keeping every image it made, until someone runs `imagecast job resume ID` (retry the blocked regions), `imagecast job resume ID --skip REGION` (finish without them) or `imagecast job abort ID` (remove what it made). abort: it fails and removes what it made (mash). Verdicts (invalid job, checksum mismatch, invalid image, failed tests, disallowed content) always fail the release.',
    ),
  block_timeout: z
    .number()
    .int()
    .min(60)
    .default(604800)
    .meta({
      description: 'Seconds a blocked release waits for a decision before on_block_timeout applies (default 7 days).',
      examples: [604800],
    }),
  block_reminder: z
    .number()
    .int()
    .min(1)
    .default(86400)
    .meta({
      description:
        'Seconds between reminders while a release stays blocked: the notification (email, webhooks; when the job says notify) is sent when it blocks and again every block_reminder until a decision or block_timeout (default a day).',
      examples: [86400],
    }),
  on_block_timeout: z
    .enum(['abort', 'skip'])
    .default('abort')
    .describe(
      'What a blocked release does when block_timeout passes with no decision. abort: remove what it made and fail. skip: finish without the blocked regions (the status says which were skipped).',
    ),
  use_build_time: z
    .boolean()
    .default(false)
    .describe(
      "mash: fill cloud_image_name's {date} from the build's time (the image file's Last-Modified, which OBS sets to when it was built) instead of the day the release runs. A build service that gives no Last-Modified fails the download step, naming the file.",
    ),
  requesting_user: z.string().max(LIMITS.name).optional().describe('Who asked for the release (set by mash; informational).'),
  job_id: z.string().max(LIMITS.name).optional().describe("mash's job id (informational)."),
  ...rawUploadShape,
  ...imageListShape,
};

/**
 * mash fields every cloud has that Imagecast does not implement yet: a document carrying one
 * is refused by name, never half-run. Move a field into the schema when its step lands.
 */
export const UNSUPPORTED_MASH_FIELDS: readonly string[] = [];

/** Why a refused mash field is refused, where "not supported yet" alone would not say enough. */
export const UNSUPPORTED_MASH_FIELD_REASONS: Partial<Record<string, string>> = {};
