import { Option, type Command } from 'commander';
import { checkJobDocument, formatIssues } from '../../../schemas/job/index.js';
import { CLOUDS, type CloudName } from '../../../schemas/steps.js';
import { EXIT_INVALID_INPUT, EXIT_OK } from '../exit-codes.js';
import { readJobDocument } from '../job-document.js';
import { addConnectionOptions, type ConnectionFlags } from '../client-config.js';
import { preflightJob } from './job-preflight.js';

// `job add` reads documents the same way.
export { readJobDocument } from '../job-document.js';

type ValidateFlags = ConnectionFlags & { cloud?: CloudName; json?: boolean; preflight?: boolean };

/** `imagecast job validate`: checks a job document without a server (with --preflight, against the clouds); nothing is started. */
export function register(job: Command): void {
  const command = job
    .command('validate')
    .description('check a job document without starting anything; lists every problem with its JSON path')
    .argument('<file>', 'job document (JSON), or - for stdin')
    .addOption(
      new Option('--cloud <cloud>', 'target cloud; default: the document\'s "cloud" field').choices(CLOUDS),
    )
    .option('--json', 'print the document with every default filled in (or the problems) as JSON on stdout')
    .option(
      '--preflight',
      "also run the release's preflight on the workers (Temporal): credentials, regions enabled, the image name free, public sharing possible, in every account",
    );
  addConnectionOptions(command)
    .addHelpText(
      'after',
      `
Exit codes: 0 valid, 2 invalid (every problem is listed as "path: reason", at most 100).
With --preflight: 0 no problems, 1 problems found (each: account, region, check, fix) or the
preflight could not run (Temporal unreachable, build not found), 2 invalid document or usage.
Limits: 256 KiB per document; field lengths and list sizes as in docs/jobs.md.

Examples:
  imagecast job validate --cloud local examples/jobs/local-demo.json
  imagecast job validate --json - < job.json     # the job with its defaults resolved
  imagecast job validate --preflight examples/jobs/mash-ec2.json`,
    )
    .action(async (file: string, flags: ValidateFlags) => {
      process.exitCode = await validate(file, flags);
    });
}

async function validate(file: string, flags: ValidateFlags): Promise<number> {
  const read = await readJobDocument(file);
  if (!read.ok) {
    console.error(read.error);
    // --json: stdout carries the answer whatever it is, so scripts need not read stderr.
    if (flags.json)
      console.log(
        JSON.stringify(
          { valid: false, issues: [{ path: '$', message: read.error }], error: { message: read.error, code: 'invalid_input', exitCode: EXIT_INVALID_INPUT } },
          null,
          2,
        ),
      );
    return EXIT_INVALID_INPUT;
  }
  // Every field and rule is checked, and every problem reported at once.
  const parsed = checkJobDocument(read.doc, flags.cloud);
  if (!parsed.ok) {
    const count = parsed.issues.length === 1 ? '1 problem' : `${parsed.issues.length} problems`;
    console.error(
      `${file === '-' ? '<stdin>' : file}: invalid job document (${count}):\n${formatIssues(parsed.issues)}`,
    );
    const error = { message: `invalid job document (${count})`, code: 'invalid_input', exitCode: EXIT_INVALID_INPUT };
    if (flags.json) console.log(JSON.stringify({ valid: false, issues: parsed.issues, error }, null, 2));
    return EXIT_INVALID_INPUT;
  }
  const summary = `valid: ${parsed.job.cloud} job for image "${parsed.job.cloud_image_name}"`;
  if (flags.preflight) {
    console.error(summary);
    return preflightJob(read.doc, flags);
  }
  if (flags.json) {
    console.error(summary); // stdout stays pure JSON
    console.log(JSON.stringify(parsed.job, null, 2));
  } else console.log(summary);
  return EXIT_OK;
}
