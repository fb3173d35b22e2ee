import { z } from 'zod';
import './zod-messages.js';
import { CLOUDS } from './steps.js';

/**
 * What a scheduled `deprecateImages` run does to one image line in one account: keep the
 * newest `keep` releases active, deprecate the rest (and, with `older_than_days`, only those
 * released that long ago), and delete images deprecated more than `delete_after_days` ago.
 */
export const retirementPolicySchema = z
  .object({
    cloud: z.enum(CLOUDS),
    account: z.string().min(1).describe('The account whose images are retired.'),
    image_line: z.string().min(1).describe('The cloud_image_name template of the line, e.g. sles-15-v{date}-b{release}.'),
    keep: z.number().int().min(1).default(1).describe('Newest releases that stay active (at least the newest one).'),
    older_than_days: z
      .number()
      .min(0)
      .optional()
      .describe('Deprecate only releases published at least this many days ago.'),
    delete_after_days: z
      .number()
      .min(0)
      .optional()
      .describe(
        'Delete images deprecated at least this many days ago. Images past the deletion date their cloud records (GCE: months_to_deletion) are deleted either way; otherwise, without it, nothing is deleted.',
      ),
    dry_run: z.boolean().default(false).describe('Report what would change; change nothing.'),
  })
  .strict();

export type RetirementPolicy = z.infer<typeof retirementPolicySchema>;
