import { z } from 'zod';
import { baseJobShape } from './base.js';
import {
  EC2_ACCOUNT_LIST_MAX,
  EC2_DESCRIPTION_MAX,
  ec2CpuOptions,
  ec2ImageNameProblem,
  ec2ImageTags,
  ec2ImdsVersion,
} from './ec2-fields.js';
import { nameTemplate } from './fields.js';
import { LIMITS } from './limits.js';

/** AWS region names in every partition: us-east-1, cn-north-1, us-gov-west-1, eu-central-2 … */
export const EC2_REGION_PATTERN = /^[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-\d{1,2}$/;

export const ec2Region = z
  .string()
  .max(32)
  .regex(EC2_REGION_PATTERN, 'an AWS region name such as us-east-1, cn-north-1 or us-gov-west-1');

const accountIds = /^[0-9]{12}(,[0-9]{12})*$/;

/** mash's account reference inside `cloud_accounts`: overrides of the stored account's defaults. */
const ec2JobAccount = z
  .object({
    name: z.string().min(1).describe('The name of a stored EC2 account (imagecast account ec2 list).'),
    region: ec2Region.optional().describe("Overrides the account's home region (where the image is made)."),
    root_swap_ami: z
      .string()
      .optional()
      .describe(
        'mash: the helper AMI of the root-swap method. Accepted and unused: Imagecast writes the snapshot directly.',
      ),
    subnet: z.string().optional().describe("Overrides the account's subnet for test instances."),
  })
  .strict();

/**
 * mash's EC2 job fields (mash/services/api/v1/schema/jobs/ec2.py) that Imagecast does not
 * implement: AWS Marketplace publishing and the ec2uploadimg helper instance.
 */
export const EC2_UNSUPPORTED_MASH_FIELDS = [
  'upload_wait_count',
  'launch_inst_type',
  'publish_in_marketplace',
  'entity_id',
  'version_title',
  'release_notes',
  'access_role_arn',
  'os_name',
  'os_version',
  'usage_instructions',
  'recommended_instance_type',
] as const;

/**
 * An EC2 release job: mash's document as it is (comma-separated `share_with`, `allow_copy`
 * and `billing_codes` included), plus the AMI attributes Imagecast sets at registration.
 */
export const ec2JobSchema = z
  .object({
    cloud: z
      .literal('ec2')
      .default('ec2')
      .describe(
        "The target cloud. May be left out of a file: the CLI's <cloud> argument (or --cloud) fills it in.",
      ),
    ...baseJobShape,
    cloud_image_name: nameTemplate
      .superRefine((template, ctx) => {
        const problem = ec2ImageNameProblem(template);
        if (problem) ctx.addIssue({ code: 'custom', message: problem });
      })
      .meta(baseJobShape.cloud_image_name.meta() ?? {}),
    image_description: baseJobShape.image_description
      .max(EC2_DESCRIPTION_MAX)
      .meta({ ...baseJobShape.image_description.meta(), description: `The description of the AMI (EC2: at most ${EC2_DESCRIPTION_MAX} characters).` }),
    cloud_account: z
      .string()
      .min(1)
      .optional()
      .meta({
        description:
          'The stored EC2 account to release with (its home region, additional regions and credentials). One of cloud_account, cloud_accounts or cloud_groups is required.',
        examples: ['account1'],
      }),
    cloud_accounts: z
      .array(ec2JobAccount)
      .min(1)
      .max(LIMITS.listItems)
      .optional()
      .meta({
        description:
          'mash: a list of accounts, each with optional region and subnet overrides. Several accounts release in parallel, one child release each, all of the same build.',
        examples: [[{ name: 'account1', region: 'us-east-2' }]],
      }),
    cloud_groups: z
      .array(z.string().min(1).max(LIMITS.name))
      .min(1)
      .max(LIMITS.listItems)
      .optional()
      .meta({
        description:
          'mash: account groups to release with: every account of every group (each once), one child release each, all of the same build.',
        examples: [['group1']],
      }),
    additional_regions: z
      .array(
        z.union([ec2Region, z.object({ name: ec2Region, helper_image: z.string().optional() }).strict()]),
      )
      .max(LIMITS.listItems)
      .default([])
      .meta({
        description:
          "Regions the image is copied to in addition to the account's own additional regions, in parallel. mash's {name, helper_image} objects are accepted (helper_image is not needed).",
        examples: [['eu-central-1', 'ap-northeast-1']],
      }),
    skip_replication: z
      .boolean()
      .default(false)
      .describe('Keep the image in the home region only: no copies to other regions.'),
    share_with: z
      .string()
      .max(EC2_ACCOUNT_LIST_MAX)
      .regex(
        /^([0-9]{12}(,[0-9]{12})*|all|none)$/,
        '"all", "none" or comma-separated 12-digit AWS account ids without spaces',
      )
      .default('none')
      .meta({
        description:
          '"all" makes the AMI public, "none" keeps it private, a comma-separated list of account ids shares it with those accounts.',
        examples: ['all', 'none', '123456789012,098765432109'],
      }),
    allow_copy: z
      .string()
      .max(EC2_ACCOUNT_LIST_MAX)
      .regex(
        /^([0-9]{12}(,[0-9]{12})*|image|none)$/,
        '"image", "none" or comma-separated 12-digit AWS account ids without spaces',
      )
      .default('none')
      .meta({
        description:
          'Who may copy the AMI (snapshot create-volume permission): "image" the accounts it is shared with, "none" nobody, or a comma-separated list of account ids.',
        examples: ['image', 'none', '123456789012'],
      }),
    billing_codes: z
      .string()
      .regex(/^[A-Za-z0-9-]+(,[A-Za-z0-9-]+)*$/, 'comma-separated billing product codes without spaces')
      .optional()
      .meta({
        description: 'Billing product codes set at registration.',
        examples: ['bp-1234567890,bp-0987654321'],
      }),
    use_root_swap: z
      .boolean()
      .optional()
      .describe(
        "mash: make the image with ec2imgutils' root-swap method. Accepted; Imagecast always writes the snapshot directly (EBS direct APIs or S3 import), which needs no helper instance either way.",
      ),
    root_volume_size: z
      .number()
      .int()
      .min(1)
      .max(16384)
      .default(10)
      .meta({
        description: 'Root volume size in GiB of instances launched from the AMI (at least the disk size).',
        examples: [10],
      }),
    ena_support: z.boolean().default(true).describe('Register the AMI with ENA networking enabled.'),
    sriov_support: z
      .boolean()
      .default(true)
      .describe('Register the AMI with SR-IOV (Intel 82599 VF) networking enabled.'),
    tpm_support: z
      .literal('v2.0', { error: 'the only NitroTPM version is "v2.0"' })
      .optional()
      .describe('Register the AMI with NitroTPM v2.0 (needs uefi boot_firmware).'),
    imds_support: z
      .literal('v2.0', { error: 'the only value is "v2.0" (instances must use IMDSv2)' })
      .optional()
      .describe('Instances launched from the AMI require IMDSv2.'),
    imds_version: ec2ImdsVersion,
    force_replace_image: z
      .boolean()
      .default(false)
      .describe(
        'Replace an AMI of the same name (made elsewhere) instead of failing: the new AMI is registered under a stand-in name, tested, then the old AMI is deregistered and the new one registered under the name from the same snapshot (no data copied). In replica regions the old AMI is deregistered before the copy.',
      ),
    image_tags: ec2ImageTags,
    cpu_options: ec2CpuOptions,
    upload_method: z
      .enum(['ebs_direct', 's3_import'])
      .optional()
      .describe(
        "Imagecast addition: how the disk becomes a snapshot. ebs_direct writes it block by block (zero blocks skipped); s3_import uploads it to the account's import bucket and runs ImportSnapshot. Default: the account's setting, else ebs_direct.",
      ),
  })
  .strict()
  .meta({
    title: 'Imagecast ec2 release job',
    description:
      'A release job for Amazon EC2: mash-compatible. The image is written into an EBS snapshot, registered as an AMI, copied to every target region, shared and the older release deprecated.',
  });

export type Ec2Job = z.infer<typeof ec2JobSchema>;

/** Problems between fields, checked on the raw document (reported with every other problem). */
export function ec2CrossFieldIssues(
  doc: Record<string, unknown>,
): Array<{ path: Array<string | number>; message: string }> {
  const issues: Array<{ path: Array<string | number>; message: string }> = [];
  const named = (['cloud_account', 'cloud_accounts', 'cloud_groups'] as const).filter(
    (f) => doc[f] !== undefined,
  );
  if (named.length === 0) {
    issues.push({
      path: ['cloud_account'],
      message: 'required: name the account (or use cloud_accounts or cloud_groups)',
    });
  } else if (named.length > 1) {
    issues.push({ path: [named[1]!], message: `use either ${named.join(' or ')}, not both` });
  }
  const firmware = Array.isArray(doc.boot_firmware) ? doc.boot_firmware : ['bios'];
  const uefi = firmware.some((f) => f === 'uefi' || f === 'uefi-preferred');
  if (doc.tpm_support !== undefined && !uefi) {
    issues.push({
      path: ['tpm_support'],
      message: 'NitroTPM needs UEFI: add "uefi" or "uefi-preferred" to boot_firmware',
    });
  }
  const cpu = doc.cpu_options as { AmdSevSnp?: unknown } | undefined;
  if (cpu?.AmdSevSnp === 'enabled' && !uefi) {
    issues.push({
      path: ['cpu_options', 'AmdSevSnp'],
      message: 'AMD SEV-SNP needs UEFI: add "uefi" or "uefi-preferred" to boot_firmware',
    });
  }
  if (doc.imds_version !== undefined && doc.imds_support !== undefined) {
    issues.push({ path: ['imds_version'], message: 'imds_version is mash\'s name for imds_support: use one of them' });
  }
  const allowCopy = doc.allow_copy;
  if (allowCopy === 'image' && (doc.share_with === undefined || doc.share_with === 'none')) {
    issues.push({
      path: ['allow_copy'],
      message: '"image" lets the accounts the image is shared with copy it, but share_with is "none"',
    });
  }
  return issues;
}

/** `share_with` as the release plan carries it. */
export function ec2ShareWith(shareWith: string): 'all' | 'none' | string[] {
  return shareWith === 'all' || shareWith === 'none' ? shareWith : shareWith.split(',');
}

/** `allow_copy` as account ids (or all), resolved against `share_with`. */
export function ec2AllowCopy(allowCopy: string, shareWith: string): 'all' | 'none' | string[] {
  if (allowCopy === 'none') return 'none';
  if (allowCopy === 'image') return ec2ShareWith(shareWith);
  return accountIds.test(allowCopy) ? allowCopy.split(',') : 'none';
}

/** mash's reasons for EC2 fields Imagecast refuses by name. */
export const EC2_UNSUPPORTED_MASH_FIELD_REASONS: Partial<Record<string, string>> = {
  upload_wait_count:
    'Imagecast waits for an EC2 snapshot or copy until it is done, with heartbeats, and the activity timeouts bound the wait, not a count of 600 s waits',
};
