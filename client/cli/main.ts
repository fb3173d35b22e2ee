#!/usr/bin/env node
// imagecast: release cloud images as Temporal workflows. Every command has --help with an example.
import { Command } from 'commander';
import { register as registerValidate } from './commands/job-validate.js';
import { register as registerSchema } from './commands/job-schema.js';
import { register as registerRelease } from './commands/job-release.js';
import { EXIT_FAILURE } from './exit-codes.js';

const program = new Command('imagecast')
  .description('Release public-cloud VM images as durable Temporal workflows')
  .version('0.1.0')
  .addHelpText(
    'after',
    `
Exit codes: 0 success, 1 release failed / server unreachable, 2 invalid input.
Environment: IMAGECAST_TEMPORAL_ADDRESS, IMAGECAST_TEMPORAL_NAMESPACE, IMAGECAST_QUEUE_PREFIX, IMAGECAST_UI_URL.

Example:
  imagecast job validate --cloud local examples/jobs/local-demo.json
  imagecast job add local examples/jobs/local-demo.json --wait`,
  );

const job = program.command('job').description('validate, start and follow release jobs');
registerValidate(job);
registerSchema(job);
registerRelease(job);

program.parseAsync().catch((error: unknown) => {
  console.error(`imagecast: ${(error as Error).message}`);
  process.exit(EXIT_FAILURE);
});
