import { z } from 'zod';
import { EC2_REGION_PATTERN } from './job/ec2.js';

export const AWS_PARTITIONS = ['aws', 'aws-cn', 'aws-us-gov'] as const;
export type AwsPartition = (typeof AWS_PARTITIONS)[number];

/** The partition a region belongs to, by its name (cn-* and us-gov-* are their own partitions). */
export function partitionOfRegion(region: string): AwsPartition {
  if (region.startsWith('cn-')) return 'aws-cn';
  if (region.startsWith('us-gov-')) return 'aws-us-gov';
  return 'aws';
}

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
const ec2AssumedRole = z
  .object({
    role_arn: z
      .string()
      .regex(
        /^arn:aws(-cn|-us-gov)?:iam::[0-9]{12}:role\/[\w+=,.@/-]+$/,
        'an IAM role ARN: arn:aws:iam::123456789012:role/NAME',
      ),
    external_id: z.string().min(2).max(1224).describe('The sts:ExternalId the role trust policy requires.'),
  })
  .strict();

export const ec2AccountSchema = z
  .object({
    name: z
      .string()
      .regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/, 'letters, digits, ".", "_" and "-", at most 64'),
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
    credentials: z.union([ec2AccessKeys, ec2AssumedRole], {
      error: 'either {access_key_id, secret_access_key} or {role_arn, external_id}',
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

/** The accounts file a worker reads (`IMAGECAST_ACCOUNTS_FILE`): accounts per cloud. */
export const accountsFileSchema = z
  .object({
    ec2: z.array(ec2AccountSchema).default([]),
  })
  .strict();

export type AccountsFile = z.infer<typeof accountsFileSchema>;
