import { Argument, Option, type Command } from 'commander';
import { jobJsonSchema, type SchemaMode } from '../../../schemas/job/index.js';
import { CLOUDS, type CloudName } from '../../../schemas/steps.js';

/** `imagecast job schema`: the job document schema, generated from the zod schema parseJob uses. */
export function register(job: Command): void {
  job
    .command('schema')
    .description(
      "print a cloud's job document schema (JSON Schema generated from the schema Imagecast validates with)",
    )
    .addArgument(new Argument('<cloud>', 'target cloud').choices(CLOUDS))
    .addOption(
      new Option('--json', 'JSON Schema, pretty (the default when stdout is not a terminal)').conflicts([
        'raw',
        'annotated',
      ]),
    )
    .addOption(new Option('--raw', 'JSON Schema on one line').conflicts('annotated'))
    .option(
      '--annotated',
      'every field with its type, default, meaning and example (the default in a terminal)',
    )
    .addHelpText(
      'after',
      `
Examples:
  imagecast job schema local                     # annotated in a terminal
  imagecast job schema local --json > local-job.schema.json`,
    )
    .action((cloud: CloudName, flags: { json?: boolean; raw?: boolean; annotated?: boolean }) => {
      console.log(jobJsonSchema(cloud, schemaMode(flags)));
    });
}

function schemaMode(flags: { json?: boolean; raw?: boolean; annotated?: boolean }): SchemaMode {
  if (flags.raw) return 'raw';
  if (flags.json) return 'json';
  if (flags.annotated) return 'annotated';
  return process.stdout.isTTY ? 'annotated' : 'json';
}
