import type { z } from 'zod';
import { pendingCloudJobSchema } from './pending-cloud.js';

/** mash's EC2 job fields (mash/services/api/v1/schema/jobs/ec2.py) that Imagecast does not implement yet. */
export const EC2_UNSUPPORTED_MASH_FIELDS = [
  // accounts and partitions
  'cloud_account',
  'cloud_accounts',
  'cloud_groups',
  // sharing and replication
  'share_with',
  'allow_copy',
  'skip_replication',
  // image creation
  'billing_codes',
  'use_root_swap',
  'tpm_support',
  'launch_inst_type',
  // AWS Marketplace
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

/** Placeholder until the EC2 provider lands: parseJob refuses ec2 jobs. */
export const ec2JobSchema = pendingCloudJobSchema('ec2', 'Amazon EC2');

export type Ec2Job = z.infer<typeof ec2JobSchema>;
