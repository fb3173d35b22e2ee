import { Option, type Command } from 'commander';
import type { ImagecastClient } from '../../sdk/index.js';
import { addConnectionOptions, connect, type ConnectionFlags } from '../client-config.js';
import { formatStatus } from '../format-status.js';
import { EXIT_FAILURE, EXIT_INVALID_INPUT, EXIT_OK } from '../exit-codes.js';

type Flags = ConnectionFlags & { json?: boolean };
const STATES = ['running', 'waiting', 'succeeded', 'failed', 'cancelled'];

/** `job watch|list|cancel|retry|log`: follow, find and act on releases. */
export function register(job: Command): void {
  addConnectionOptions(job.command('watch'))
    .description('follow a release live: steps as they finish, a progress bar while uploading; exit 0 when it succeeds, 1 otherwise')
    .argument('<release-id>', 'the id `job add` printed')
    .option('--json', 'print one JSON status line per change, then the final status')
    .addHelpText('after', '\nExample:\n  imagecast job watch release-local-test-demo-v20261125-b_release_')
    .action((id: string, flags: Flags) =>
      run(flags, async (client) => {
        let last = '';
        const status = await client.waitForRelease(id, {
          pollIntervalMs: 1000,
          onProgress: (s) => {
            if (flags.json) return console.log(JSON.stringify(s));
            const line = `${s.currentStep ?? s.state}: ${s.steps.find((x) => x.name === s.currentStep)?.detail ?? ''}`;
            if (line !== last) console.log(line);
            last = line;
          },
        });
        if (!flags.json) console.log(formatStatus(status));
        else console.log(JSON.stringify(status));
        return status.state === 'succeeded' ? EXIT_OK : EXIT_FAILURE;
      }, (client, id) => showProgress(client, id, Boolean(flags.json)), id),
    );

  addConnectionOptions(job.command('list'))
    .description('list releases (newest first) by cloud, state, image name prefix and start time')
    .option('--cloud <cloud>', 'only this cloud')
    .addOption(new Option('--status <state>', 'only this state').choices(STATES))
    .option('--image <prefix>', 'image names starting with this')
    .option('--since <when>', 'started at or after: an ISO date/time, or 2h, 3d ago')
    .option('--limit <n>', 'at most this many', '50')
    .option('--json', 'print JSON')
    .addHelpText('after', '\nExample:\n  imagecast job list --cloud ec2 --status failed --since 7d')
    .action((flags: Flags & { cloud?: string; status?: string; image?: string; since?: string; limit: string }) =>
      run(flags, async (client) => {
        const releases = await client.listReleases({
          cloud: flags.cloud,
          status: flags.status,
          image: flags.image,
          since: flags.since ? since(flags.since) : undefined,
          limit: Number(flags.limit),
        });
        if (flags.json) console.log(JSON.stringify(releases, null, 2));
        else if (releases.length === 0) console.log('no releases');
        for (const r of flags.json ? [] : releases) {
          console.log(
            `${r.startedAt.toISOString()}  ${(r.state ?? r.workflowStatus.toLowerCase()).padEnd(10)}${(r.step ?? '').padEnd(17)}${r.cloud ?? ''}/${r.account ?? ''}  ${r.imageName ?? ''}  ${r.releaseId}`,
          );
        }
        return EXIT_OK;
      }),
    );

  addConnectionOptions(job.command('cancel'))
    .description('cancel a running release; it removes what it made before it ends')
    .argument('<release-id>', 'the release')
    .option('--wait', 'wait until the cleanup has run')
    .option('--json', 'print JSON')
    .addHelpText('after', '\nExample:\n  imagecast job cancel release-local-test-demo-v20261125-b_release_ --wait')
    .action((id: string, flags: Flags & { wait?: boolean }) =>
      run(flags, async (client) => {
        await client.cancelRelease(id);
        if (!flags.wait) {
          console.log(flags.json ? JSON.stringify({ cancelRequested: id }) : `cancel requested for ${id}; it cleans up, then ends`);
          return EXIT_OK;
        }
        const status = await client.waitForRelease(id);
        console.log(flags.json ? JSON.stringify(status) : formatStatus(status));
        return EXIT_OK;
      }),
    );

  addConnectionOptions(job.command('retry'))
    .description('run a failed or cancelled release again: same job, same build its failed run chose')
    .argument('<release-id>', 'the failed release')
    .option('--wait', 'follow it and exit 0 when it succeeds, 1 otherwise')
    .option('--json', 'print JSON')
    .addHelpText(
      'after',
      `
The failed run's cleanup removed what it made, so every step runs again (each is idempotent).

Example:
  imagecast job retry release-ec2-sles-prod-sles-15-v20261125-b_release_ --wait`,
    )
    .action((id: string, flags: Flags & { wait?: boolean }) =>
      run(flags, async (client) => {
        const started = await client.retryRelease(id);
        if (!flags.wait) {
          console.log(flags.json ? JSON.stringify(started) : `retrying ${id} (run ${started.runId})`);
          return EXIT_OK;
        }
        const status = await client.waitForRelease(id);
        console.log(flags.json ? JSON.stringify(status) : formatStatus(status));
        return status.state === 'succeeded' ? EXIT_OK : EXIT_FAILURE;
      }),
    );

  addConnectionOptions(job.command('log'))
    .description("a release's activity attempts: which ran where, how often, and every error")
    .argument('<release-id>', 'the release')
    .option('--json', 'print JSON')
    .addHelpText('after', '\nExample:\n  imagecast job log release-local-test-demo-v20261125-b_release_')
    .action((id: string, flags: Flags) =>
      run(flags, async (client) => {
        const attempts = await client.releaseLog(id);
        if (flags.json) console.log(JSON.stringify(attempts, null, 2));
        for (const a of flags.json ? [] : attempts) {
          console.log(
            `${a.scheduledAt?.toISOString() ?? ''}  ${a.activity.padEnd(24)}${`attempt ${a.attempt}`.padEnd(11)}${a.outcome.padEnd(10)}${a.taskQueue}${a.error ? `\n    ${a.error}` : ''}`,
          );
        }
        return EXIT_OK;
      }),
    );
}

/** While watching: a progress bar from the upload's heartbeat, every few seconds, on stderr. */
async function showProgress(client: ImagecastClient, id: string, quiet: boolean): Promise<void> {
  if (quiet || !process.stderr.isTTY) return;
  const running = await client.runningActivities(id).catch(() => []);
  const upload = running.find((a) => a.activity === 'uploadImage');
  const percent = Number(upload?.heartbeat?.percent);
  if (upload && Number.isFinite(percent)) {
    const filled = Math.round(percent / 5);
    process.stderr.write(`\r  upload [${'#'.repeat(filled)}${'.'.repeat(20 - filled)}] ${percent}%  `);
  }
}

function since(text: string): Date {
  const ago = /^(\d+)([mhd])$/.exec(text);
  if (ago) return new Date(Date.now() - Number(ago[1]) * { m: 60_000, h: 3_600_000, d: 86_400_000 }[ago[2] as 'm' | 'h' | 'd']);
  const at = new Date(text);
  if (Number.isNaN(at.getTime())) throw new UsageProblem(`--since: "${text}" is not a date/time or an age such as 2h or 3d`);
  return at;
}

class UsageProblem extends Error {}

async function run(
  flags: Flags,
  action: (client: ImagecastClient) => Promise<number>,
  alongside?: (client: ImagecastClient, id: string) => Promise<void>,
  id?: string,
): Promise<void> {
  let client: ImagecastClient | undefined;
  let ticker: NodeJS.Timeout | undefined;
  try {
    client = await connect(flags);
    const c = client;
    if (alongside && id) ticker = setInterval(() => void alongside(c, id), 3000);
    process.exitCode = await action(client);
  } catch (error) {
    console.error(`imagecast: ${(error as Error).message}`);
    process.exitCode = error instanceof UsageProblem ? EXIT_INVALID_INPUT : EXIT_FAILURE;
  } finally {
    if (ticker) clearInterval(ticker);
    await client?.close();
  }
}

