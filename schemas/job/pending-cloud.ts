import { z } from 'zod';
import { baseJobShape } from './base.js';

/**
 * The job schema of a cloud whose provider has not landed yet: the common fields and the
 * `cloud` literal. Its mash-specific fields wait in the cloud's unsupported list; when the
 * provider lands, move each into the schema as it becomes real.
 */
export function pendingCloudJobSchema<const Cloud extends string>(cloud: Cloud, label: string) {
  return z
    .object({
      cloud: z
        .literal(cloud)
        .default(cloud as z.util.NoUndefined<Cloud>)
        .describe(
          "The target cloud. May be left out of a file: the CLI's <cloud> argument (or --cloud) fills it in.",
        ),
      ...baseJobShape,
    })
    .strict()
    .meta({
      title: `Imagecast ${cloud} release job`,
      description: `A release job for ${label}. The ${cloud} provider is not available yet: such jobs are refused.`,
    });
}
