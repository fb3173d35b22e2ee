import { connect, type ConnectionFlags } from '../client-config.js';
import { reportError } from '../command-output.js';
import { EXIT_FAILURE, EXIT_OK } from '../exit-codes.js';
import { formatPreflightProblem } from '../../../schemas/preflight.js';
import type { CloudName } from '../../../schemas/steps.js';

/** Problems found: the job would fail its release's preflight (exit 1, as a failed release). */
export const EXIT_PREFLIGHT_PROBLEMS = EXIT_FAILURE;

/**
 * `job validate --preflight`: the release's preflight, run by the workers (they hold the
 * accounts and cloud endpoints) as a short `preflightRelease` workflow; nothing is started,
 * uploaded or changed. Every problem is printed, one a line, naming account, region and fix.
 */
export async function preflightJob(
  document: unknown,
  flags: ConnectionFlags & { cloud?: CloudName; json?: boolean },
): Promise<number> {
  try {
    const client = await connect(flags);
    try {
      const result = await client.preflight(document, { cloud: flags.cloud });
      if (flags.json) console.log(JSON.stringify({ valid: true, preflight: result }, null, 2));
      const where = `${result.accounts.join(', ')} for image "${result.imageName}"`;
      if (result.problems.length === 0) {
        (flags.json ? console.error : console.log)(`preflight: no problems in ${where}`);
        return EXIT_OK;
      }
      const count = result.problems.length === 1 ? '1 problem' : `${result.problems.length} problems`;
      const lines = [
        `preflight: ${count} in ${where}:`,
        ...result.problems.map((p) => `  ${formatPreflightProblem(p)}`),
      ];
      (flags.json ? console.error : console.log)(lines.join('\n'));
      return EXIT_PREFLIGHT_PROBLEMS;
    } finally {
      await client.close();
    }
  } catch (error) {
    return reportError(failureCause(error), flags.json);
  }
}

/** A failed preflight run says why in its cause (the build not found, an unknown account). */
function failureCause(error: unknown): unknown {
  const cause = (error as { cause?: unknown } | undefined)?.cause;
  return error instanceof Error && error.name === 'WorkflowFailedError' && cause instanceof Error
    ? cause
    : error;
}
