import { z } from 'zod';
import { baseJobShape } from './base.js';
import { cloudName } from './fields.js';

/** The `local` cloud: regions are directories on the worker's machine; no credentials. */
export const localJobSchema = z
  .object({
    ...baseJobShape,
    cloud: z.literal('local').describe('The target cloud.'),
    cloud_account: cloudName.default('local').describe('Local account: a directory under the local cloud\'s data dir.'),
    region: cloudName.default('local-1').describe('Home region, where the image is uploaded and created. Imagecast addition.'),
    additional_regions: z.array(cloudName).default([]).describe('Regions the image is replicated to, in parallel.'),
    share_with: z
      .union([z.enum(['all', 'none']), z.array(cloudName).min(1)])
      .default('none')
      .describe('"all" makes the image public, "none" keeps it private, a list shares it with those accounts.'),
    allow_copy: z.boolean().default(false).describe('Whether accounts it is shared with may copy it.'),
  });


export type LocalJob = z.infer<typeof localJobSchema>;

/**
 * Cross-field problems of the regions, checked on the raw document so they are reported
 * together with every other problem (zod runs object refinements only once the rest is valid).
 */
export function localRegionIssues(doc: Record<string, unknown>): Array<{ path: Array<string | number>; message: string }> {
  if (!Array.isArray(doc.additional_regions)) return [];
  const home = doc.region ?? 'local-1';
  const seen = new Set<unknown>();
  const issues: Array<{ path: Array<string | number>; message: string }> = [];
  doc.additional_regions.forEach((region: unknown, i) => {
    if (region === home) issues.push({ path: ['additional_regions', i], message: `"${String(region)}" is the home region already` });
    else if (seen.has(region)) issues.push({ path: ['additional_regions', i], message: `"${String(region)}" is listed twice` });
    seen.add(region);
  });
  return issues;
}
