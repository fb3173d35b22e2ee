import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { formatIssues, parseJob } from '../../../schemas/job/index.js';
import { CLOUDS, type CloudName } from '../../../schemas/steps.js';
import { EXIT_INVALID_INPUT } from '../exit-codes.js';

/** Reads a JSON job document from a file or stdin (`-`), naming the file in any error. */
export async function readJobDocument(file: string): Promise<{ ok: true; doc: unknown } | { ok: false; error: string }> {
  let text: string;
  try {
    text = file === '-' ? await readStdin() : await readFile(file, 'utf8');
  } catch (error) {
    return { ok: false, error: `${file}: cannot read: ${(error as Error).message}` };
  }
  try {
    return { ok: true, doc: JSON.parse(text) };
  } catch (error) {
    return { ok: false, error: `${file}: not valid JSON: ${(error as Error).message}` };
  }
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

export function register(job: Command): void {
  job
    .command('validate')
    .description('check a job document without starting anything; lists every problem with its JSON path')
    .argument('<file>', 'job document (JSON), or - for stdin')
    .option('--cloud <cloud>', `target cloud (${CLOUDS.join(', ')}); default: the document's "cloud"`)
    .option('--json', 'print the document with defaults filled in, as JSON')
    .addHelpText('after', '\nExit codes: 0 valid, 2 invalid.\n\nExample:\n  imagecast job validate --cloud local examples/jobs/local-demo.json')
    .action(async (file: string, flags: { cloud?: string; json?: boolean }) => {
      if (flags.cloud && !CLOUDS.includes(flags.cloud as CloudName)) {
        console.error(`--cloud: unknown cloud "${flags.cloud}": use one of ${CLOUDS.join(', ')}`);
        return process.exit(EXIT_INVALID_INPUT);
      }
      const read = await readJobDocument(file);
      if (!read.ok) {
        console.error(read.error);
        return process.exit(EXIT_INVALID_INPUT);
      }
      const parsed = parseJob(read.doc, flags.cloud as CloudName | undefined);
      if (!parsed.ok) {
        console.error(`${file}: invalid job document\n${formatIssues(parsed.issues)}`);
        return process.exit(EXIT_INVALID_INPUT);
      }
      if (flags.json) console.log(JSON.stringify(parsed.job, null, 2));
      else console.log(`valid: ${parsed.job.cloud} job for image "${parsed.job.cloud_image_name}"`);
    });
}
