// EC2 job fields with EC2's own limits (RegisterImage, CreateTags and RunInstances references).
import { z } from 'zod';
import { expandImageName } from './names.js';

/** RegisterImage: "Up to 255 characters". */
export const EC2_DESCRIPTION_MAX = 255;
/** RegisterImage: 3–128 characters of letters, digits and ( ) [ ] space . / - ' @ _ */
export const EC2_IMAGE_NAME_LENGTH = { min: 3, max: 128 } as const;
const EC2_IMAGE_NAME_CHARACTERS = /^[A-Za-z0-9()[\] ./\-'@_]*$/;
/** 50 tags per resource; Imagecast's own (release token, id, checksum, deprecation pair) take 5. */
export const EC2_MAX_IMAGE_TAGS = 45;

/**
 * The AMI name rules, checked on the template: `{date}` counts as its 8 digits, `{version}`
 * and `{release}` as at least one character each (the build decides the rest, and an AMI name
 * made too long by them is refused by RegisterImage itself).
 */
export function ec2ImageNameProblem(template: string): string | undefined {
  const shortest = expandImageName(template, { date: '20260101', version: '1', release: '1' });
  const outside = [...new Set([...shortest].filter((c) => !EC2_IMAGE_NAME_CHARACTERS.test(c)))];
  if (outside.length > 0) {
    const given = outside.map((c) => JSON.stringify(c)).join(', ');
    return `an AMI name has only letters, digits and ( ) [ ] space . / - ' @ _; this one has ${given}`;
  }
  const { min, max } = EC2_IMAGE_NAME_LENGTH;
  if (shortest.length < min || shortest.length > max)
    return `an AMI name is ${min}–${max} characters long; this one is at least ${shortest.length} (with {date} as 8 digits)`;
  return undefined;
}

const tagKey = z
  .string()
  .min(1)
  .max(127)
  .refine((key) => !/^(aws|imagecast):/i.test(key), 'must not start with "aws:" (AWS\'s) or "imagecast:" (ours)');

/** mash's `image_tags`: `{Key, Value}` as the EC2 API spells them. */
export const ec2ImageTags = z
  .array(
    z
      .object({
        Key: tagKey.describe('The tag key (EC2: up to 127 characters).'),
        Value: z.string().max(256).describe('The tag value (EC2: up to 256 characters, may be empty).'),
      })
      .strict(),
  )
  .min(1)
  .max(EC2_MAX_IMAGE_TAGS)
  .optional()
  .meta({
    description: `mash: tags set on the AMI and its snapshot, in the home region and every copy (at most ${EC2_MAX_IMAGE_TAGS}; keys up to 127 characters, not "aws:" or "imagecast:", values up to 256).`,
    examples: [[{ Key: 'date', Value: '20220202' }]],
  });

/** mash's `cpu_options`: what the test instance is launched with (the AMI has no such attribute). */
export const ec2CpuOptions = z
  .object({
    AmdSevSnp: z
      .enum(['enabled', 'disabled'])
      .optional()
      .describe('AMD SEV-SNP on the test instance (needs an instance type that has it and UEFI boot).'),
  })
  .strict()
  .optional()
  .describe('mash: CPU options the image supports; the test instance is launched with them.');

/** mash's `imds_version`: the same as imds_support ("2.0" and "v2.0" both mean IMDSv2). */
export const ec2ImdsVersion = z
  .enum(['v2.0', '2.0'])
  .optional()
  .describe('mash: the name of imds_support in mash documents; "2.0" and "v2.0" both register the AMI with ImdsSupport v2.0.');

/** Comma-separated account lists, bounded: 1000 accounts of 12 digits and their commas. */
export const EC2_ACCOUNT_LIST_MAX = 1000 * 13 - 1;
