// Field schemas shared by every cloud's job document. Descriptions give mash's meaning;
// what Imagecast adds or does differently is marked "Imagecast addition".
import { z } from 'zod';
import { LAST_SERVICE_STEPS, type ReleaseStep } from '../steps.js';
import '../zod-messages.js';
import { LIMITS } from './limits.js';

/** Placeholders `cloud_image_name` may carry: mash's {date}, and our {version} and {release}. */
export const NAME_PLACEHOLDERS = ['date', 'version', 'release'] as const;
export type NamePlaceholder = (typeof NAME_PLACEHOLDERS)[number];

/** Account and region names of clouds whose names we choose (the local cloud). */
export const NAME_PATTERN = /^[a-z0-9][a-z0-9-]{0,62}$/;

export const resourceName = z
  .string()
  .regex(NAME_PATTERN, 'use lower-case letters, digits and "-" (not first), at most 63 characters');

export const nonEmptyStrings = z
  .array(z.string().min(1, 'must not be empty').max(LIMITS.name))
  .max(LIMITS.listItems);

export const imageCondition = z
  .object({
    package_name: z
      .string()
      .min(1)
      .optional()
      .describe(
        'The package the condition is about. Without it the condition is checked against the image itself; with only a name it requires the package to be in the image.',
      ),
    version: z.string().min(1).optional().describe('The package or image version from the build service.'),
    release: z.string().min(1).optional().describe('The build (release) number of the package or image.'),
    condition: z
      .enum(['>=', '==', '<=', '>', '<'])
      .optional()
      .describe('How version and/or release are compared, the way rpm compares versions (default >=).'),
  })
  .strict()
  .refine((c) => c.package_name !== undefined || c.version !== undefined || c.release !== undefined, {
    message: 'a condition needs at least one of package_name, version or release',
  })
  .meta({
    // mash's own JSON Schema says the same with anyOf: the refinement above is not representable.
    anyOf: [{ required: ['package_name'] }, { required: ['version'] }, { required: ['release'] }],
    examples: [{ package_name: 'kernel-default', version: '4.13.1', condition: '>=' }],
  });

export type ImageCondition = z.infer<typeof imageCondition>;

export const utctime = z
  .string()
  .superRefine((value, ctx) => {
    if (value === 'now' || value === 'always') return;
    if (!z.iso.datetime({ offset: true }).safeParse(value).success) {
      ctx.addIssue({
        code: 'custom',
        message: `"${value}" is neither "now", "always" nor an RFC 3339 timestamp like 2026-11-25T06:00:00Z`,
      });
    }
  })
  .default('now')
  .meta({
    description:
      '"now" starts the release at once; an RFC 3339 timestamp (with Z or an offset) starts it no sooner than that (a durable timer waits; a past time means now); "always" (mash) releases every new build: `imagecast job add` makes it a schedule that polls download_url and releases each build (new checksum) that meets the conditions.',
    examples: ['now', '2026-11-25T06:00:00Z', 'always'],
    anyOf: [{ const: 'now' }, { const: 'always' }, { format: 'date-time' }],
  });

export const nameTemplate = z
  .string()
  .min(1)
  .max(LIMITS.name)
  .superRefine((value, ctx) => {
    for (const [, name] of value.matchAll(/\{([^}]*)\}/g)) {
      if (!(NAME_PLACEHOLDERS as readonly string[]).includes(name!)) {
        ctx.addIssue({
          code: 'custom',
          message: `unknown placeholder {${name}}: use {date}, {version} or {release}`,
        });
      }
    }
  });

/**
 * mash's own steps that Imagecast does inside another one: test_preparation happens at the
 * start of test, and test_cleanup at its end, so stopping after them is stopping after
 * create and after test.
 */
export const MASH_LAST_SERVICE_ALIASES = { test_preparation: 'create', test_cleanup: 'test' } as const;

type LastServiceStep = Exclude<ReleaseStep, 'cleanup'>;
const LAST_SERVICE_NAMES = [...LAST_SERVICE_STEPS, ...Object.keys(MASH_LAST_SERVICE_ALIASES)] as [
  string,
  ...string[],
];

export const lastService = z
  .enum(LAST_SERVICE_NAMES)
  .default('deprecate')
  .transform((step): LastServiceStep =>
    step in MASH_LAST_SERVICE_ALIASES
      ? MASH_LAST_SERVICE_ALIASES[step as keyof typeof MASH_LAST_SERVICE_ALIASES]
      : (step as LastServiceStep),
  )
  .meta({
    description:
      'The last pipeline step to run; the later ones are skipped (cleanup always runs). mash\'s test_preparation means create and test_cleanup means test (Imagecast prepares and cleans up inside test). Imagecast addition: defaults to deprecate, the whole pipeline (mash requires the field).',
    examples: ['publish'],
  });
