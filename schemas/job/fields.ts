import { z } from 'zod';
import { LAST_SERVICE_STEPS, type ReleaseStep } from '../steps.js';

/** Placeholders `cloud_image_name` may carry: mash's {date}, and our {version} and {release}. */
export const NAME_PLACEHOLDERS = ['date', 'version', 'release'] as const;

export const imageCondition = z
  .object({
    package_name: z.string().min(1).optional().describe('Package the condition is about; without it the condition is on the image itself.'),
    version: z.string().min(1).optional().describe('Package or image version from the build service.'),
    release: z.string().min(1).optional().describe('Build (release) number of the package or image.'),
    condition: z.enum(['>=', '==', '<=', '>', '<']).optional().describe('How to compare version/release (default >=).'),
  })
  .strict()
  .refine((c) => c.package_name !== undefined || c.version !== undefined || c.release !== undefined, {
    message: 'a condition needs at least one of package_name, version or release',
  })
  .meta({ examples: [{ package_name: 'kernel-default', version: '4.13.1', condition: '>=' }] });

export const utctime = z
  .string()
  .superRefine((value, ctx) => {
    if (value === 'now') return;
    if (value === 'always') {
      ctx.addIssue({ code: 'custom', message: '"always" (release every new build) is not supported yet: scheduled releases will provide it' });
      return;
    }
    if (!z.iso.datetime({ offset: true }).safeParse(value).success) {
      ctx.addIssue({ code: 'custom', message: `"${value}" is neither "now" nor an RFC 3339 timestamp like 2026-11-25T06:00:00Z` });
    }
  })
  .default('now')
  .describe('"now", or an RFC 3339 timestamp: the release starts no sooner than that (a durable timer waits).');

export const nameTemplate = z
  .string()
  .min(1)
  .superRefine((value, ctx) => {
    for (const [, name] of value.matchAll(/\{([^}]*)\}/g)) {
      if (!(NAME_PLACEHOLDERS as readonly string[]).includes(name!)) {
        ctx.addIssue({ code: 'custom', message: `unknown placeholder {${name}}: use {date}, {version} or {release}` });
      }
    }
  });

export const lastService = z
  .enum(LAST_SERVICE_STEPS as [Exclude<ReleaseStep, 'cleanup'>, ...Exclude<ReleaseStep, 'cleanup'>[]])
  .default('deprecate')
  .describe('The last step to run; later steps are skipped (cleanup always runs).');

export const nonEmptyStrings = z.array(z.string().min(1));

export const cloudName = z.string().regex(/^[a-z0-9][a-z0-9-]{0,62}$/, 'use lower-case letters, digits and -, at most 63');
