import { Option, type Command } from 'commander';
import { CLOUDS } from '../../../schemas/steps.js';
import { describeAttempt, type ImagecastClient, type PendingActivity, type ReleaseSummary } from '../../sdk/index.js';
import { addConnectionOptions, connect, type ConnectionFlags } from '../client-config.js';
import { formatStatus } from '../format-status.js';
import { EXIT_FAILURE, EXIT_OK } from '../exit-codes.js';
import { runCommand } from '../command-output.js';
import { durationMs, pointInTime, positiveInteger } from '../option-parsers.js';
import { UsageError } from '../store-connection.js';
import { printWorkerProblems } from './job-release.js';
import { registerDecisions } from './job-decide.js';

type Flags = ConnectionFlags & { json?: boolean };
type WaitFlags = Flags & { wait?: boolean; timeout?: number };
const STATES = ['running', 'waiting', 'blocked', 'succeeded', 'failed', 'cancelled'];
const TIMEOUT_HELP = 'give up waiting after this long (90s, 30m, 2h): exit 3; the release goes on';

/** `job watch|list|cancel|retry|log|resume|abort`: follow, find and act on releases. */
export function register(job: Command): void {
  registerDecisions(job, withClient);
  addConnectionOptions(job.command('watch'))
    .description('follow a release live: steps as they finish, retries as they happen, a progress bar while uploading; exit 0 when it succeeds, 1 otherwise')
    .argument('<release-id>', 'the id `job add` printed')
    .option('--timeout <duration>', TIMEOUT_HELP, durationMs)
    .option('--json', 'print one JSON status line per change, then the final status')
    .addHelpText('after', '\nExit codes: 0 succeeded, 1 failed/cancelled/blocked/unknown release (blocked: it waits for job resume or job abort), 3 --timeout reached.\n\nExample:\n  imagecast job watch release-local-test-demo-v20261125-b_release_')
    .action((id: string, flags: Flags & { timeout?: number }) =>
      withClient(flags, async (client) => {
        let last = '';
        const say = (line: string) => {
          if (line !== last) console.log(line);
          last = line;
        };
        const seen = new Map<string, string>();
        const ticker = setInterval(() => void showLiveAttempts(client, id, Boolean(flags.json), seen), 3000);
        try {
          const status = await client.waitForRelease(id, {
            pollIntervalMs: 1000,
            timeoutMs: flags.timeout,
            onWorkerProblem: printWorkerProblems,
            onProgress: (s) => {
              if (flags.json) return console.log(JSON.stringify(s));
              const detail = s.steps.find((x) => x.name === s.currentStep)?.detail;
              say(detail ? `${s.currentStep ?? s.state}: ${detail}` : (s.currentStep ?? s.state));
            },
          });
          console.log(flags.json ? JSON.stringify(status) : formatStatus(status));
          return status.state === 'succeeded' ? EXIT_OK : EXIT_FAILURE;
        } finally {
          clearInterval(ticker);
        }
      }),
    );

  addConnectionOptions(job.command('list'))
    .description('list releases (newest first) by cloud, state, image name prefix and start time')
    .addOption(new Option('--cloud <cloud>', 'only this cloud').choices(CLOUDS))
    .addOption(new Option('--status <state>', 'only this state').choices(STATES))
    .option('--image <prefix>', 'image names starting with this')
    .option('--since <when>', 'started at or after: an ISO date/time, or 2h, 3d ago', (v: string) => pointInTime(v))
    .option('--limit <n>', 'at most this many', positiveInteger(50), 50)
    .option('--json', 'print JSON')
    .addHelpText('after', '\nExample:\n  imagecast job list --cloud ec2 --status failed --since 7d')
    .action((flags: Flags & { cloud?: string; status?: string; image?: string; since?: Date; limit: number }) =>
      withClient(flags, async (client) => {
        const releases = await client.listReleases({ cloud: flags.cloud, status: flags.status, image: flags.image, since: flags.since, limit: flags.limit });
        if (flags.json) console.log(JSON.stringify(releases, null, 2));
        else console.log(releases.map(listLine).join('\n') || 'no releases');
        return EXIT_OK;
      }),
    );

  addConnectionOptions(job.command('cancel'))
    .description('cancel a running release; it removes what it made before it ends')
    .argument('<release-id>', 'the release')
    .option('--wait', 'wait until the cleanup has run')
    .option('--timeout <duration>', `with --wait: ${TIMEOUT_HELP}`, durationMs)
    .option('--json', 'print JSON')
    .addHelpText(
      'after',
      `
Exit codes: 0 cancel requested (or, with --wait, done), 1 the release had already ended (its final
state is said) or is unknown, 3 --timeout reached.

Example:
  imagecast job cancel release-local-test-demo-v20261125-b_release_ --wait`,
    )
    .action((id: string, flags: WaitFlags) =>
      withClient(flags, async (client) => {
        requireWaitForTimeout(flags);
        await client.cancelRelease(id);
        if (!flags.wait) {
          console.log(flags.json ? JSON.stringify({ cancelRequested: id }) : `cancel requested for ${id}; it cleans up, then ends`);
          return EXIT_OK;
        }
        const status = await client.waitForRelease(id, { timeoutMs: flags.timeout, onWorkerProblem: printWorkerProblems });
        console.log(flags.json ? JSON.stringify(status) : formatStatus(status));
        return EXIT_OK;
      }),
    );

  addConnectionOptions(job.command('retry'))
    .description('run a failed or cancelled release again: same job, same build its failed run chose')
    .argument('<release-id>', 'the failed release')
    .option('--wait', 'follow it and exit 0 when it succeeds, 1 otherwise')
    .option('--timeout <duration>', `with --wait: ${TIMEOUT_HELP}`, durationMs)
    .option('--json', 'print JSON')
    .addHelpText(
      'after',
      `
What the earlier run left intact (terminated, or its cleanup failed: the uploaded disk, the
image and its copies; local, EC2 and Azure) is adopted instead of made again, and the status says
"reused <id> from the earlier run <run>"; everything else runs again (each step is idempotent).
Exit codes: 0 retried (with --wait: it succeeded), 1 it failed again, is still running, had
succeeded or is unknown, 3 --timeout reached.

Example:
  imagecast job retry release-ec2-sles-prod-sles-15-v20261125-b_release_ --wait`,
    )
    .action((id: string, flags: WaitFlags) =>
      withClient(flags, async (client) => {
        requireWaitForTimeout(flags);
        const started = await client.retryRelease(id);
        if (!flags.wait) {
          console.log(flags.json ? JSON.stringify(started) : `retrying ${id} (run ${started.runId})`);
          return EXIT_OK;
        }
        const status = await client.waitForRelease(id, { timeoutMs: flags.timeout, onWorkerProblem: printWorkerProblems });
        console.log(flags.json ? JSON.stringify(status) : formatStatus(status));
        return status.state === 'succeeded' ? EXIT_OK : EXIT_FAILURE;
      }),
    );

  addConnectionOptions(job.command('log'))
    .description("a release's activity attempts: which ran where, how often (live while retrying), and every error")
    .argument('<release-id>', 'the release')
    .option('--json', 'print JSON')
    .addHelpText('after', '\nExample:\n  imagecast job log release-local-test-demo-v20261125-b_release_')
    .action((id: string, flags: Flags) =>
      withClient(flags, async (client) => {
        const attempts = await client.releaseLog(id);
        if (flags.json) console.log(JSON.stringify(attempts, null, 2));
        for (const a of flags.json ? [] : attempts) {
          const attempt = `attempt ${a.attempt}${a.maximumAttempts ? `/${a.maximumAttempts}` : ''}`;
          const next = a.nextAttemptAt ? `\n    next attempt ${a.nextAttemptAt.toISOString()}` : '';
          console.log(
            `${a.scheduledAt?.toISOString() ?? ''}  ${a.activity.padEnd(24)}${attempt.padEnd(14)}${a.outcome.padEnd(10)}${a.taskQueue}${a.error ? `\n    ${a.error}` : ''}${next}`,
          );
        }
        return EXIT_OK;
      }),
    );
}

/** One line of `job list`: a waiting release says until when; a finished one has no step. */
export function listLine(r: ReleaseSummary): string {
  const state = r.state ?? r.workflowStatus.toLowerCase();
  const where =
    state === 'waiting' ? `until ${r.startAt ?? 'its utctime'}` : state === 'running' || state === 'blocked' ? (r.step ?? '') : '';
  return `${r.startedAt.toISOString()}  ${state.padEnd(10)}${where.padEnd(16)} ${r.cloud ?? ''}/${r.account ?? ''}  ${r.imageName ?? ''}  ${r.releaseId}`;
}

function requireWaitForTimeout(flags: WaitFlags): void {
  if (flags.timeout !== undefined && !flags.wait) throw new UsageError('--timeout: only with --wait');
}

/**
 * While watching: retries of pending activities as they happen (attempt, last failure), and
 * a progress bar from the upload's heartbeat on a terminal (stderr).
 */
async function showLiveAttempts(client: ImagecastClient, id: string, json: boolean, seen: Map<string, string>): Promise<void> {
  const running: PendingActivity[] = await client.runningActivities(id).catch(() => []);
  for (const p of running.filter((a) => a.attempt > 1 || a.lastFailure)) {
    // Once per attempt and activity: the ticker asks every few seconds.
    const line = `  ${p.activity}: ${describeAttempt(p)}`;
    if (seen.get(p.activityId) === line) continue;
    seen.set(p.activityId, line);
    console.log(json ? JSON.stringify({ releaseId: id, retrying: p }) : line);
  }
  const upload = running.find((a) => a.activity === 'uploadImage');
  const percent = Number(upload?.heartbeat?.percent);
  if (!json && process.stderr.isTTY && upload && Number.isFinite(percent)) {
    const filled = Math.round(percent / 5);
    process.stderr.write(`\r  upload [${'#'.repeat(filled)}${'.'.repeat(20 - filled)}] ${percent}%  `);
  }
}

async function withClient(flags: Flags, action: (client: ImagecastClient) => Promise<number>): Promise<void> {
  await runCommand(flags, async () => {
    const client = await connect(flags);
    try {
      return await action(client);
    } finally {
      await client.close();
    }
  });
}


