import { z } from 'zod';
import { GCE_ZONE_PATTERN } from '../accounts.js';
import { baseJobShape } from './base.js';
import { nameTemplate } from './fields.js';
import { LIMITS } from './limits.js';
import { describeTemplate, sampleImageName } from './names.js';

/** mash's GCE job fields (mash/services/api/v1/schema/jobs/gce.py) that Imagecast does not implement yet: none. */
export const GCE_UNSUPPORTED_MASH_FIELDS = [] as const;

/** GCE resource names (images, families): RFC 1035, https://cloud.google.com/compute/docs/naming-resources. */
export const GCE_NAME_PATTERN = /^[a-z]([-a-z0-9]{0,61}[a-z0-9])?$/;

/**
 * Why a `cloud_image_name` template cannot make a GCE image name, or undefined. mash only
 * crashes on this (in create, after the upload); here the document is refused up front.
 * `{version}` and `{release}` usually carry dots, which GCE names cannot.
 */
export function gceImageNameProblem(template: string): string | undefined {
  const expanded = sampleImageName(template);
  if (GCE_NAME_PATTERN.test(expanded)) return undefined;
  const dotted = /\{(version|release)\}/.test(template) && expanded.includes('.');
  return `${describeTemplate(template)} is not a GCE image name: lower-case letters, digits and "-", starting with a letter, not ending with "-", at most 63 characters${dotted ? '; {version} and {release} contain dots, which GCE names cannot' : ''}`;
}

const zone = z.string().max(32).regex(GCE_ZONE_PATTERN, 'a GCE zone such as us-east1-c');
const uniqueStrings = (what: string) =>
  z
    .array(z.string().min(1, 'must not be empty').max(LIMITS.name))
    .min(1, `list at least one ${what}, or leave the field out`)
    .max(LIMITS.listItems)
    .superRefine((list, ctx) => {
      list.forEach((item, i) => {
        if (list.indexOf(item) !== i) ctx.addIssue({ code: 'custom', path: [i], message: `"${item}" is listed twice` });
      });
    });

/** An IAM member an image may be shared with (https://cloud.google.com/iam/docs/principal-identifiers). */
const IAM_MEMBER = /^(user|group|serviceAccount|domain):[^\s,]+$/;

/**
 * A GCE release job: mash's document as it is (additionalProperties false), plus
 * Imagecast's `share_with`. The image is global: uploaded to the bucket as a tarball,
 * created once, tested in a zone, shared by IAM and the previous release deprecated.
 */
export const gceJobSchema = z
  .object({
    cloud: z
      .literal('gce')
      .default('gce')
      .describe("The target cloud. May be left out of a file: the CLI's <cloud> argument (or --cloud) fills it in."),
    ...baseJobShape,
    cloud_image_name: nameTemplate
      .superRefine((template, ctx) => {
        const problem = gceImageNameProblem(template);
        if (problem) ctx.addIssue({ code: 'custom', message: problem });
      })
      .meta(baseJobShape.cloud_image_name.meta() ?? {}),
    cloud_account: z
      .string()
      .min(1)
      .max(LIMITS.name)
      .meta({
        description: 'The stored GCE account (its project) the image is made in: the publishing project (imagecast account gce list).',
        examples: ['gce-prod'],
      }),
    family: z
      .string()
      .regex(GCE_NAME_PATTERN, 'a GCE image family name: lower-case letters, digits and "-", starting with a letter, at most 63 characters')
      .optional()
      .meta({ description: 'The image family the image joins (required for a publishing account).', examples: ['sles-15'] }),
    months_to_deletion: z
      .number()
      .int()
      .min(0)
      .max(1200)
      .default(6)
      .meta({
        description: "When this release deprecates the previous image, that image's deletion date is this many months later; Imagecast's retirement schedule deletes it then (GCE never deletes by itself).",
        examples: [6],
      }),
    guest_os_features: uniqueStrings('guest OS feature')
      .optional()
      .meta({
        description: 'guestOsFeatures of the image, e.g. UEFI_COMPATIBLE, GVNIC, SEV_CAPABLE, VIRTIO_SCSI_MULTIQUEUE. UEFI_COMPATIBLE is added when boot_firmware asks for UEFI.',
        examples: [['UEFI_COMPATIBLE', 'GVNIC']],
      }),
    licenses: uniqueStrings('license')
      .optional()
      .meta({
        description: 'License resources attached to the image: projects/PROJECT/global/licenses/NAME.',
        examples: [['projects/suse-cloud/global/licenses/sles-15']],
      }),
    test_fallback_regions: z
      .array(zone)
      .max(LIMITS.listItems)
      .optional()
      .meta({
        description: 'Zones the test instance is started in when the test zone has no capacity, in order.',
        examples: [['us-east1-b', 'us-west1-a']],
      }),
    testing_account: z
      .string()
      .min(1)
      .max(LIMITS.name)
      .optional()
      .meta({ description: "The stored GCE account (project) test instances run in. Default: the account's testing_account, else cloud_account.", examples: ['gce-test'] }),
    bucket: z
      .string()
      .min(3)
      .max(222)
      .optional()
      .meta({ description: "The GCS bucket the disk tarball is uploaded to. Default: the account's bucket.", examples: ['images'] }),
    region: zone.optional().meta({
      description: "mash calls it region but it is a zone: where the test instance runs. Default: the account's zone.",
      examples: ['us-east1-c'],
    }),
    image_project: z
      .string()
      .min(1)
      .max(LIMITS.name)
      .optional()
      .meta({ description: 'The project the test reads the image from (required for a publishing account).', examples: ['suse-cloud'] }),
    skip_rollout: z
      .boolean()
      .optional()
      .describe('mash: skip the zonal rollout policy. Accepted; the images.insert API has no rollout policy, so images are available everywhere at once either way.'),
    force_replace_image: z
      .boolean()
      .default(false)
      .describe('Replace an existing tarball or image of the same name (owned by another release) instead of failing.'),
    share_with: z
      .union([
        z.enum(['all', 'none']),
        z
          .array(z.string().regex(IAM_MEMBER, 'an IAM member: user:EMAIL, group:EMAIL, serviceAccount:EMAIL or domain:DOMAIN'))
          .min(1)
          .max(LIMITS.listItems),
      ], {
        error: (issue) => (issue.code === 'invalid_union' ? 'use "all", "none" or a list of IAM members (user:…, group:…, serviceAccount:…, domain:…)' : undefined),
      })
      .default('none')
      .meta({
        description:
          'Imagecast addition: "all" lets every authenticated Google user use the image (roles/compute.imageUser for allAuthenticatedUsers, as plume does), a list of IAM members grants it to those, "none" grants nothing (mash publishes through the project\'s own IAM).',
        examples: ['all', ['group:image-users@example.com']],
      }),
  })
  .strict()
  .meta({
    title: 'Imagecast gce release job',
    description:
      "A release job for Google Compute Engine: mash-compatible. The disk is uploaded to GCS as a tarball, made into a global image, tested, shared by IAM, and the previous release deprecated.",
  });

export type GceJob = z.infer<typeof gceJobSchema>;

/** mash's rules between fields that need the stored account are checked in planning; these need only the document. */
export function gceCrossFieldIssues(doc: Record<string, unknown>): Array<{ path: Array<string | number>; message: string }> {
  const issues: Array<{ path: Array<string | number>; message: string }> = [];
  if (typeof doc.region === 'string' && Array.isArray(doc.test_fallback_regions) && doc.test_fallback_regions.includes(doc.region)) {
    issues.push({
      path: ['test_fallback_regions', doc.test_fallback_regions.indexOf(doc.region)],
      message: `"${doc.region}" is the test zone (region) already`,
    });
  }
  return issues;
}
