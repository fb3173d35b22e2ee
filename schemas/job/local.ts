import { z } from 'zod';
import { baseJobShape } from './base.js';
import { resourceName } from './fields.js';

export const LOCAL_DEFAULT_ACCOUNT = 'local';
export const LOCAL_DEFAULT_REGION = 'local-1';

/** The `local` cloud: regions are directories on the worker's machine; no credentials. */
export const localJobSchema = z
  .object({
    cloud: z
      .literal('local')
      .default('local')
      .describe(
        "The target cloud. May be left out of a file: the CLI's <cloud> argument (or --cloud) fills it in.",
      ),
    ...baseJobShape,
    cloud_account: resourceName.default(LOCAL_DEFAULT_ACCOUNT).meta({
      description: "The local account: a directory under the local cloud's data directory.",
      examples: ['demo'],
    }),
    region: resourceName.default(LOCAL_DEFAULT_REGION).meta({
      description: 'The home region, where the image is uploaded, created and tested.',
      examples: ['local-1'],
    }),
    additional_regions: z
      .array(resourceName)
      .default([])
      .meta({
        description:
          'Imagecast addition: the regions the image is replicated to, in parallel. No duplicates, and not the home region.',
        examples: [['local-2', 'local-3']],
        uniqueItems: true,
      }),
    share_with: z
      .union([z.enum(['all', 'none']), z.array(resourceName).min(1)], {
        error: (issue) =>
          issue.code === 'invalid_union' ? 'use "all", "none" or a list of account names' : undefined,
      })
      .default('none')
      .meta({
        description:
          '"all" makes the image public, "none" keeps it private, a list of account names shares it with those accounts (mash\'s EC2 field takes a comma-separated string; here it is a list).',
        examples: ['all', ['team-a', 'team-b']],
      }),
    force_replace_image: z
      .boolean()
      .default(false)
      .describe(
        'Replace an image of the same name (made elsewhere) instead of failing: the new image is tested under a stand-in name, then the old one is removed and the new one takes the name. In replica regions the old image is removed before the copy.',
      ),
    allow_copy: z
      .boolean()
      .default(false)
      .describe(
        'Whether the accounts the image is shared with may copy it (mash\'s EC2 field takes "image", "none" or accounts; here it is true or false).',
      ),
  })
  .strict()
  .meta({
    title: 'Imagecast local release job',
    description: "A release job for the local cloud: regions are directories on the worker's machine.",
  });

export type LocalJob = z.infer<typeof localJobSchema>;

/**
 * Cross-field problems, checked on the raw document so they are reported together with every
 * other problem (zod runs object refinements only once everything else is valid).
 */
export function localCrossFieldIssues(
  doc: Record<string, unknown>,
): Array<{ path: Array<string | number>; message: string }> {
  const issues: Array<{ path: Array<string | number>; message: string }> = [];
  const home = doc.region ?? LOCAL_DEFAULT_REGION;
  duplicates(doc.additional_regions, (region, i, seen) => {
    if (region === home)
      issues.push({
        path: ['additional_regions', i],
        message: `"${region}" is the home region (region) already`,
      });
    else if (seen) issues.push({ path: ['additional_regions', i], message: `"${region}" is listed twice` });
  });
  duplicates(doc.share_with, (account, i, seen) => {
    if (seen) issues.push({ path: ['share_with', i], message: `"${account}" is listed twice` });
  });
  return issues;
}

function duplicates(list: unknown, visit: (item: string, index: number, seenBefore: boolean) => void): void {
  if (!Array.isArray(list)) return;
  const seen = new Set<string>();
  list.forEach((item: unknown, i) => {
    if (typeof item !== 'string') return;
    visit(item, i, seen.has(item));
    seen.add(item);
  });
}
