import type { Command } from 'commander';
import { CLOUDS, type CloudName } from '../../../schemas/steps.js';
import { GatewayError, ImagecastGateway, InvalidJobError, ReleaseAlreadyRunningError } from '../../sdk/index.js';
import { readSecretText } from '../secret-input.js';
import { formatIssues, parseJob } from '../../../schemas/job/index.js';
import { addConnectionOptions, connect, webUiLink, type ConnectionFlags } from '../client-config.js';
import { attemptsPerStep, formatStatus } from '../format-status.js';
import { readJobDocument } from './job-validate.js';
import { EXIT_FAILURE, EXIT_INVALID_INPUT, EXIT_OK } from '../exit-codes.js';

/** `job add` and `job status`: start a release and read its step table. */
export function register(job: Command): void {
  addConnectionOptions(
    job
      .command('add')
      .description('validate a job document and start its release')
      .argument('<cloud>', `target cloud: ${CLOUDS.join(', ')}`)
      .argument('<file>', 'job document (JSON), or - for stdin')
      .option('--wait', 'follow the release and exit 0 when it succeeds, 1 when it fails')
      .option('--json', 'print machine-readable output')
      .option('--gateway <url>', 'start through imagecast-gateway with a CI token instead of Temporal (env IMAGECAST_GATEWAY_URL)')
      .option('--token-file <file>', 'the CI token for --gateway (default: env IMAGECAST_TOKEN)')
      .option('--poll-every <interval>', 'for utctime "always": how often the schedule looks for a new build', '1h'),
  )
    .addHelpText(
      'after',
      `
Examples:
  imagecast job add local examples/jobs/local-demo.json --wait
  IMAGECAST_TOKEN=$(cat token) imagecast job add ec2 job.json --gateway https://imagecast.example:8233 --wait`,
    )
    .action(async (cloud: string, file: string, flags: ConnectionFlags & { wait?: boolean; json?: boolean; gateway?: string; tokenFile?: string; pollEvery?: string }) => {
      if (!CLOUDS.includes(cloud as CloudName)) {
        console.error(`unknown cloud "${cloud}": use one of ${CLOUDS.join(', ')}`);
        return process.exit(EXIT_INVALID_INPUT);
      }
      const read = await readJobDocument(file);
      if (!read.ok) {
        console.error(read.error);
        return process.exit(EXIT_INVALID_INPUT);
      }
      const document = read.doc;
      const gatewayUrl = flags.gateway ?? process.env.IMAGECAST_GATEWAY_URL;
      const client = gatewayUrl
        ? new ImagecastGateway({ url: gatewayUrl, token: await gatewayToken(flags.tokenFile) })
        : await connect(flags);
      try {
        const parsedAlways = parseJob(gatewayUrl ? { cloud, ...(document as Record<string, unknown>) } : document, cloud as CloudName);
        if (parsedAlways.ok && parsedAlways.job.utctime === 'always' && 'schedules' in client) {
          const watch = await client.schedules.watchBuilds(parsedAlways.job, { every: flags.pollEvery ?? '1h' });
          console.log(
            flags.json
              ? JSON.stringify(watch)
              : `utctime "always": schedule ${watch.scheduleId} polls ${parsedAlways.job.download_url} every ${watch.every} and releases each new build (imagecast schedule list|trigger|pause|delete)`,
          );
          return;
        }
        const { releaseId } = await client.startRelease(
          gatewayUrl ? { cloud, ...(document as Record<string, unknown>) } : document,
          { cloud: cloud as CloudName },
        );
        const link = webUiLink(releaseId, flags.namespace);
        if (flags.json && !flags.wait) console.log(JSON.stringify({ releaseId, webUi: link }));
        else if (!flags.json) console.log(`started ${releaseId}${link ? `\n${link}` : ''}`);
        if (!flags.wait) return;
        const status = await client.waitForRelease(releaseId, {
          onProgress: (s) => !flags.json && console.log(`  ${s.currentStep ?? s.state}…`),
        });
        console.log(flags.json ? JSON.stringify(status) : formatStatus(status));
        process.exitCode = status.state === 'succeeded' ? EXIT_OK : EXIT_FAILURE;
      } catch (error) {
        if (error instanceof InvalidJobError) {
          console.error(formatIssues(error.issues));
          process.exitCode = EXIT_INVALID_INPUT;
        } else if (error instanceof ReleaseAlreadyRunningError) {
          console.error(error.message);
          process.exitCode = EXIT_FAILURE;
        } else if (error instanceof GatewayError) {
          console.error(`gateway: ${error.message}`);
          process.exitCode = error.status === 400 ? EXIT_INVALID_INPUT : EXIT_FAILURE;
        } else throw error;
      } finally {
        if ('close' in client) await client.close();
      }
    });

  addConnectionOptions(
    job
      .command('status')
      .description("show a release's steps: state, duration, attempts, what each made")
      .argument('<release-id>', 'the id `job add` printed')
      .option('--json', 'print machine-readable output'),
  )
    .addHelpText('after', '\nExample:\n  imagecast job status release-local-demo-imagecast-demo-v20261125-b{release}')
    .action(async (releaseId: string, flags: ConnectionFlags & { json?: boolean }) => {
      const client = await connect(flags);
      try {
        const status = await client.getRelease(releaseId);
        // Attempts come from the history (the status itself only knows the outcome).
        const attempts = attemptsPerStep(await client.releaseLog(releaseId).catch(() => []));
        console.log(
          flags.json
            ? JSON.stringify({ ...status, steps: status.steps.map((s) => ({ ...s, attempts: attempts[s.name] ?? 0 })) }, null, 2)
            : formatStatus(status, attempts),
        );
      } finally {
        await client.close();
      }
    });
}

/** The CI token: from --token-file (or - for stdin), else IMAGECAST_TOKEN; never an argv value. */
async function gatewayToken(tokenFile: string | undefined): Promise<string> {
  if (tokenFile) return (await readSecretText('--token-file', tokenFile)).trim();
  const token = process.env.IMAGECAST_TOKEN;
  if (!token) {
    console.error('--gateway needs a token: set IMAGECAST_TOKEN or pass --token-file');
    process.exit(EXIT_INVALID_INPUT);
  }
  return token;
}
