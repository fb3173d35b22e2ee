import { z } from 'zod';
import { didYouMean } from './did-you-mean.js';
import { describeValue } from './zod-messages.js';

/** Named tests (img-proof's names where they mean the same); activities/common/image-tests runs them. */
export const NAMED_IMAGE_TESTS = [
  'test_hostname',
  'test_sles',
  'test_cloud_init',
  'test_kernel_version',
  'test_sshd_running',
  'test_soft_reboot',
  'test_hard_reboot',
  'test_sles_gce_services',
  'test_sles_gce',
] as const;

const customTest = z
  .object({
    name: z.string().max(64).regex(/^[A-Za-z0-9_.-]{1,64}$/, 'letters, digits, "_", "." and "-"'),
    command: z.string().min(1).max(16 * 1024).describe('Runs on the test instance over SSH.'),
    expect_exit_code: z.number().int().min(0).max(255).default(0),
    expect_output: z
      .string()
      .refine((s) => {
        try {
          new RegExp(s);
          return true;
        } catch {
          return false;
        }
      }, 'a regular expression')
      .optional()
      .describe('The output must match this regular expression (multi-line).'),
    timeout_seconds: z.number().int().min(1).max(3600).default(300),
  })
  .strict();

/** One entry of a job's `tests`: a named test, or a command with what it must answer. */
export const imageTestSchema = z.union([
  z.enum(NAMED_IMAGE_TESTS, {
    error: (issue) =>
      typeof issue.input === 'string'
        ? `unknown test ${JSON.stringify(issue.input)}${didYouMean(issue.input, NAMED_IMAGE_TESTS)}: the named tests are ${NAMED_IMAGE_TESTS.join(', ')}; a test of your own is {name, command, …}`
        : `expected a named test (a string) or {name, command, …}, got ${describeValue(issue.input)}`,
  }),
  customTest,
]);

export type ImageTestEntry = z.infer<typeof imageTestSchema>;
