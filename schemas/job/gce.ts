import type { z } from 'zod';
import { pendingCloudJobSchema } from './pending-cloud.js';

/** mash's GCE job fields (mash/services/api/v1/schema/jobs/gce.py) that Imagecast does not implement yet. */
export const GCE_UNSUPPORTED_MASH_FIELDS = [
  'cloud_account',
  'testing_account',
  'region',
  'test_fallback_regions',
  'bucket',
  'family',
  'guest_os_features',
  'image_project',
  'months_to_deletion',
  'licenses',
  'skip_rollout',
] as const;

/** Placeholder until the GCE provider lands: parseJob refuses gce jobs. */
export const gceJobSchema = pendingCloudJobSchema('gce', 'Google Compute Engine');

export type GceJob = z.infer<typeof gceJobSchema>;
