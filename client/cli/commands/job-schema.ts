import type { Command } from 'commander';
import { jobJsonSchema, jobSchemas, type SchemaMode } from '../../../schemas/job/index.js';
import { EXIT_INVALID_INPUT } from '../exit-codes.js';

export function register(job: Command): void {
  job
    .command('schema')
    .description("print a cloud's job document schema, generated from the schema Imagecast validates with")
    .argument('<cloud>', `cloud: ${Object.keys(jobSchemas).join(', ')}`)
    .option('--json', 'JSON Schema, pretty (default when stdout is not a terminal)')
    .option('--raw', 'JSON Schema on one line')
    .option('--annotated', 'every field with its type, default and meaning (default in a terminal)')
    .addHelpText('after', '\nExample:\n  imagecast job schema local --annotated')
    .action((cloud: string, flags: { json?: boolean; raw?: boolean; annotated?: boolean }) => {
      if (!(cloud in jobSchemas)) {
        console.error(`no job schema for "${cloud}" yet: available: ${Object.keys(jobSchemas).join(', ')}`);
        return process.exit(EXIT_INVALID_INPUT);
      }
      const mode: SchemaMode = flags.raw ? 'raw' : flags.json ? 'json' : flags.annotated || process.stdout.isTTY ? 'annotated' : 'json';
      console.log(jobJsonSchema(cloud as keyof typeof jobSchemas, mode));
    });
}
