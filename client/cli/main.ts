#!/usr/bin/env node
// imagecast: release cloud images as Temporal workflows. Every command has --help with an example.
import { readFileSync } from 'node:fs';
import { Command, CommanderError } from 'commander';
import { register as registerJobRelease } from './commands/job-release.js';
import { register as registerJobSchema } from './commands/job-schema.js';
import { register as registerJobValidate } from './commands/job-validate.js';
import { register as registerJobManage } from './commands/job-manage.js';
import { register as registerAccount } from './commands/account.js';
import { register as registerKeys } from './commands/keys.js';
import { register as registerToken } from './commands/token.js';
import { register as registerTrust } from './commands/trust.js';
import { register as registerSchedule } from './commands/schedule.js';
import { register as registerImagelist } from './commands/imagelist.js';
import { register as registerReleaseRevoke } from './commands/release-revoke.js';
import { EXIT_FAILURE, EXIT_INVALID_INPUT, EXIT_OK, EXIT_TIMEOUT } from './exit-codes.js';
import { errorReport, reportError } from './command-output.js';

/** Modules adding commands to `imagecast job`: each exports `register(job: Command)`. */
const JOB_COMMANDS: Array<(job: Command) => void> = [
  registerJobValidate,
  registerJobSchema,
  registerJobRelease,
  registerJobManage,
];

function packageVersion(): string {
  try {
    // dist/client/cli/main.js → the package root
    const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as {
      version?: string;
    };
    return pkg.version ?? 'unknown';
  } catch {
    return 'unknown';
  }
}

// `imagecast … --help | head`: the reader left; that is not a crash.
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code === 'EPIPE') process.exit(EXIT_OK);
  throw error;
});

const program = new Command('imagecast')
  .description('Release public-cloud VM images as durable Temporal workflows')
  .version(packageVersion())
  // Usage errors (unknown option, missing argument, bad choice) surface as CommanderError: exit 2, not commander's 1.
  .exitOverride()
  .addHelpText(
    'after',
    `
Exit codes: ${EXIT_OK} success, ${EXIT_FAILURE} other failure (release failed, already ended, server unreachable),
${EXIT_INVALID_INPUT} invalid input, ${EXIT_TIMEOUT} --wait --timeout reached. With --json, errors are JSON on stdout too:
{"error": {"message": "...", "code": "invalid_input|not_found|already_ended|timeout|unreachable|...", "exitCode": N}}.
Environment: IMAGECAST_TEMPORAL_ADDRESS, IMAGECAST_TEMPORAL_NAMESPACE, IMAGECAST_QUEUE_PREFIX, IMAGECAST_UI_URL;
accounts and keys: IMAGECAST_DATABASE_URL, IMAGECAST_MASTER_KEY or IMAGECAST_MASTER_KEYS_FILE.

Example:
  imagecast job validate --cloud local examples/jobs/local-demo.json
  imagecast job add local examples/jobs/local-demo.json --wait`,
  );

const job = program
  .command('job')
  .description('validate, start and follow release jobs')
  .addHelpText('after', '\nExample:\n  imagecast job schema local --annotated');
for (const register of JOB_COMMANDS) register(job);
registerAccount(program);
registerKeys(program);
registerToken(program);
registerTrust(program);
registerSchedule(program);
registerImagelist(program);
registerReleaseRevoke(program);

try {
  await program.parseAsync();
} catch (error) {
  const json = process.argv.includes('--json');
  if (error instanceof CommanderError) {
    // commander has printed the message (or the help / version) already; scripts still get JSON.
    if (error.exitCode !== 0 && json) console.log(JSON.stringify({ error: errorReport(error) }));
    process.exitCode = error.exitCode === 0 ? EXIT_OK : EXIT_INVALID_INPUT;
  } else {
    process.exitCode = reportError(error, json);
  }
}
