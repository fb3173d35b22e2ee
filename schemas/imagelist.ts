import { z } from 'zod';
import './zod-messages.js';

// The HEPiX image list (vmcaster writes it, vmcatcher verifies it), key for key. Sources and
// the consumers' behaviour: /work/shared/research/hepix_image_lists.md, sections 1.2-1.4.
//
// Objects are loose: vmcatcher's decoder copies unknown keys through, and lists from other
// producers carry their own namespaces. The keys named here are checked for type and form,
// because a consumer that finds one wrong refuses the list, crashes, or silently drops the
// image (vmcatcher drops an image that lacks one of its 12 required keys).

/** `2026-12-02T19:40:40Z`: UTC, a literal Z, no fractional seconds (Python's `%Y-%m-%dT%H:%M:%SZ`). */
export const HEPIX_DATE_PATTERN = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/;

export const hepixDate = z
  .string()
  .regex(HEPIX_DATE_PATTERN, {
    error: 'expected a UTC date such as 2026-12-02T19:40:40Z (no milliseconds, no offset)',
    abort: true,
  })
  .refine((value) => isRealDate(value), { error: 'not a real date and time' });

/** 2026-02-30T25:00:00Z has the form but is no date; strptime refuses it, so do we. */
function isRealDate(value: string): boolean {
  if (!HEPIX_DATE_PATTERN.test(value)) return false;
  const at = new Date(value);
  return !Number.isNaN(at.getTime()) && at.toISOString().replace(/\.\d{3}Z$/, 'Z') === value;
}

/**
 * A format's own message for a string that has the wrong form; a missing value or one of the
 * wrong type keeps the common words of schemas/zod-messages.ts ("required", "expected a string").
 */
function formatError(message: string) {
  return (issue: { code?: string; input?: unknown }) =>
    issue.input === undefined || issue.code === 'invalid_type' ? undefined : message;
}

// The 8-4-4-4-12 hex form. Not zod's stricter `uuid()` (version and variant nibbles): no
// consumer checks those, and a list made elsewhere with a v0-style id is still a good list.
const uuid = z.guid({ error: formatError('expected a UUID such as 3a7b9c2e-5d41-4f8a-9b6e-1c2d3e4f5a6b') });

/** vmcatcher_cache fetches images with wget or copies file: URLs; nothing else. */
const httpOrFileUrl = z.url({
  protocol: /^(https?|file)$/,
  error: formatError('expected an http, https or file URL'),
});

/** Versions are strings: vmcatcher's version comparison crashes on a JSON number. */
const version = z.string().min(1);

/** `hashlib.sha512(...).hexdigest()`: compared as a string, so lower case only. */
const sha512Hex = z
  .string()
  .regex(/^[0-9a-f]{128}$/, { error: 'expected the sha512 as 128 lower-case hex digits' });

/** vmcaster writes these from its command line (strings); AppDB sends numbers. Both are read. */
const countOrText = z.union([z.number().int().min(0), z.string()]);

/** `/C=DE/O=GermanGrid/CN=…`: OpenSSL's one-line form (activities/common/imagelist/distinguished-name.ts). */
const slashDn = z
  .string()
  .regex(/^\/[^=/]+=/, {
    error: 'expected a DN in OpenSSL one-line form such as /C=DE/O=GermanGrid/CN=Name',
  });

// One object: vmcatcher's decoder crashes on a list of endorsers (vmcaster writes one when
// a list has several).
export const endorserSchema = z.looseObject(
  {
    'hv:x509': z.looseObject({
      'hv:dn': slashDn.describe("The signing certificate's subject."),
      'hv:ca': slashDn.describe("The signing certificate's issuer."),
      'hv:email': z.string().min(1),
      'dc:creator': z.string().min(1),
    }),
  },
  {
    error: (issue) =>
      Array.isArray(issue.input)
        ? 'expected one endorser object, not a list (vmcatcher refuses a list)'
        : undefined,
  },
);

export const imageSchema = z.looseObject({
  'dc:identifier': uuid.describe('Unique across every list a subscriber follows.'),
  'dc:title': z.string().min(1),
  'dc:description': z.string(),
  'hv:uri': httpOrFileUrl,
  'hv:size': z.number().int().min(0).describe('Bytes of the file at hv:uri, as served.'),
  'sl:checksum:sha512': sha512Hex.describe('Of the file at hv:uri, as served (compressed if it is).'),
  'sl:arch': z.string(),
  'sl:os': z.string(),
  'sl:osversion': z.string(),
  'sl:comments': z.string().describe('AppDB sends "".'),
  'hv:hypervisor': z.string(),
  'hv:version': version,
  // Optional: vmcaster, AppDB, atrope and cloudkeeper use them.
  'hv:format': z.string().optional(),
  'sl:osname': z.string().optional(),
  'hv:ram_minimum': countOrText.optional(),
  'hv:core_minimum': countOrText.optional(),
  'dc:date:expires': hepixDate.optional().describe('cloudkeeper requires it per image.'),
  'ad:mpuri': z.string().optional(),
  'ad:group': z.string().optional(),
  'ad:user:fullname': z.string().optional(),
  'ad:user:guid': z.string().optional(),
  'ad:user:uri': z.string().optional(),
  'ad:base_mpuri': z.string().optional(),
  'ad:appid': z.string().optional(),
  'ad:ram_recommended': countOrText.optional(),
  'ad:core_recommended': countOrText.optional(),
});

const imageListBody = z
  .looseObject({
    'dc:date:created': hepixDate,
    'dc:date:expires': hepixDate,
    'dc:identifier': uuid.describe('Constant for the life of the list; subscriptions are keyed on it.'),
    'dc:description': z.string(),
    'dc:title': z.string().min(1),
    'dc:source': z.string(),
    'hv:version': version.describe('Bumped on every publish; subscribers refuse one that goes down.'),
    'hv:uri': httpOrFileUrl,
    'hv:endorser': endorserSchema,
    'hv:images': z
      .array(z.looseObject({ 'hv:image': imageSchema }))
      .describe('Empty decommissions the list.'),
    'ad:vo': z.string().optional(),
    'ad:swid': z.string().optional(),
  })
  .superRefine((list, ctx) => {
    // vmcatcher does not check this; a list that expires before it was made is a mistake.
    const [created, expires] = [list['dc:date:created'], list['dc:date:expires']];
    if (isRealDate(created) && isRealDate(expires) && expires <= created)
      ctx.addIssue({
        code: 'custom',
        path: ['dc:date:expires'],
        message: 'must be later than dc:date:created',
      });
  });

export const imageListSchema = z.looseObject({ 'hv:imagelist': imageListBody });

export type ImageList = z.infer<typeof imageListSchema>;
export type ImageListBody = ImageList['hv:imagelist'];
export type ImageListImage = z.infer<typeof imageSchema>;
export type ImageListEndorser = z.infer<typeof endorserSchema>;

/** One problem with a list: where (`hv:imagelist.hv:images[0].hv:image.hv:size`) and what. */
export interface ImageListIssue {
  path: string;
  message: string;
}

/** The list, or every problem with it. */
export function checkImageList(
  doc: unknown,
): { ok: true; list: ImageList } | { ok: false; issues: ImageListIssue[] } {
  const parsed = imageListSchema.safeParse(doc);
  if (parsed.success) return { ok: true, list: parsed.data };
  return {
    ok: false,
    issues: parsed.error.issues.map((i) => ({ path: keyPath(i.path), message: i.message })),
  };
}

/** HEPiX keys hold colons, so a dotted path reads better than a JSON-pointer-ish one. */
export function keyPath(path: ReadonlyArray<PropertyKey>): string {
  return (
    path.reduce<string>(
      (acc, key) =>
        typeof key === 'number' ? `${acc}[${key}]` : acc ? `${acc}.${String(key)}` : String(key),
      '',
    ) || '(the document)'
  );
}
