/**
 * How every command ends: its result on stdout (text, or JSON with --json), an error as
 * "imagecast: …" on stderr and, with --json, also as JSON on stdout, so a script that parses
 * stdout always gets JSON:
 *
 *   {"error": {"message": "...", "code": "already_ended", "exitCode": 1, ...details}}
 *
 * The codes and exit codes are listed in docs/cli.md.
 */
import { CommanderError } from 'commander';
import { EXIT_FAILURE, EXIT_INVALID_INPUT, EXIT_TIMEOUT } from './exit-codes.js';

export interface ErrorReport {
  message: string;
  /** Stable word for scripts: invalid_input, not_found, already_ended, … (docs/cli.md). */
  code: string;
  exitCode: number;
  [detail: string]: unknown;
}

/** Error names (class `name`s) that mean "the input was refused": exit code 2. */
const INPUT_ERRORS = new Set([
  'UsageError',
  'UsageProblem',
  'InvalidScheduleError',
  'InvalidJobError',
  'TokenInputError',
  'TrustPolicyInputError',
  'AccountInputError',
  'UnknownAccountError',
  'ImageListSignRefused',
  'ImageListInputError',
  'PublishTargetError',
]);

/** Named errors and what scripts get for them; anything else is code "failed", exit 1. */
const KNOWN: Record<string, { code: string; exitCode: number; details?: string[] }> = {
  UnknownReleaseError: { code: 'not_found', exitCode: EXIT_FAILURE, details: ['releaseId'] },
  ReleaseEndedError: { code: 'already_ended', exitCode: EXIT_FAILURE, details: ['releaseId', 'workflowStatus', 'releaseState'] },
  DecisionRefusedError: { code: 'decision_refused', exitCode: EXIT_FAILURE, details: ['releaseId', 'decision', 'reason'] },
  RevokeRefusedError: { code: 'revoke_refused', exitCode: EXIT_FAILURE, details: ['releaseId', 'reason'] },
  ReleaseStillRunningError: { code: 'still_running', exitCode: EXIT_FAILURE, details: ['releaseId'] },
  ReleaseAlreadyRunningError: { code: 'already_running', exitCode: EXIT_FAILURE, details: ['releaseId'] },
  ReleaseStartRefusedError: { code: 'start_refused', exitCode: EXIT_FAILURE, details: ['releaseId', 'reason', 'grpcCode'] },
  WaitTimeoutError: { code: 'timeout', exitCode: EXIT_TIMEOUT, details: ['releaseId', 'timeoutMs'] },
  TemporalUnreachableError: { code: 'unreachable', exitCode: EXIT_FAILURE, details: ['address', 'addressFrom'] },
  GatewayError: { code: 'gateway', exitCode: EXIT_FAILURE, details: ['status'] },
  NamespaceNotFoundError: { code: 'not_found', exitCode: EXIT_FAILURE, details: ['namespace'] },
  ImageListNotFoundError: { code: 'not_found', exitCode: EXIT_FAILURE, details: ['kind', 'given'] },
};

export function errorReport(error: unknown): ErrorReport {
  if (error instanceof CommanderError) {
    return { message: error.message.replace(/^error: /, ''), code: 'invalid_input', exitCode: EXIT_INVALID_INPUT, commander: error.code };
  }
  const e = error instanceof Error ? error : new Error(String(error));
  const fields = e as unknown as Record<string, unknown>;
  if (INPUT_ERRORS.has(e.name) || e.constructor.name === 'UnknownAccountError') {
    return { message: e.message, code: 'invalid_input', exitCode: EXIT_INVALID_INPUT, ...(Array.isArray(fields.issues) && { issues: fields.issues }), ...(Array.isArray(fields.problems) && { problems: fields.problems }) };
  }
  const known = KNOWN[e.name];
  if (!known) return { message: e.message, code: 'failed', exitCode: EXIT_FAILURE };
  const report: ErrorReport = { message: e.message, code: known.code, exitCode: known.exitCode };
  for (const key of known.details ?? []) if (fields[key] !== undefined) report[key] = fields[key];
  // A refused start because of what was sent (too large, malformed) is invalid input.
  if (e.name === 'ReleaseStartRefusedError' && fields.grpcCode === 'INVALID_ARGUMENT') report.exitCode = EXIT_INVALID_INPUT;
  if (e.name === 'GatewayError' && fields.status === 400) report.exitCode = EXIT_INVALID_INPUT;
  return report;
}

/** Prints the error (stderr; and stdout as JSON with --json) and returns its exit code. */
export function reportError(error: unknown, json: boolean | undefined, text?: string): number {
  const report = errorReport(error);
  console.error(text ?? `imagecast: ${report.message}`);
  if (json) console.log(JSON.stringify({ error: report }));
  return report.exitCode;
}

/** Runs a command's action: its exit code, or the error reported. */
export async function runCommand(flags: { json?: boolean | string }, action: () => Promise<number>): Promise<void> {
  try {
    process.exitCode = await action();
  } catch (error) {
    process.exitCode = reportError(error, Boolean(flags.json));
  }
}
