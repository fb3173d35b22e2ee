import { Argument, type Command } from 'commander';
import { CLOUDS, type CloudName } from '../../../schemas/steps.js';
import { type ImagecastClient, type ReleaseInspection, type WorkerProblem } from '../../sdk/index.js';
import { addGatewayOptions, gatewayClient, type GatewayFlags } from '../gateway-connection.js';
import { parseJob } from '../../../schemas/job/index.js';
import { addConnectionOptions, connect, webUiLink, type ConnectionFlags } from '../client-config.js';
import { attemptsPerStep, formatStatus, retriesPerStep } from '../format-status.js';
import { readJobDocument } from './job-validate.js';
import { EXIT_FAILURE, EXIT_OK } from '../exit-codes.js';
import { reportError, runCommand } from '../command-output.js';
import { durationMs, durationText } from '../option-parsers.js';
import { UsageError } from '../store-connection.js';

type AddFlags = ConnectionFlags & GatewayFlags & { wait?: boolean; timeout?: number; json?: boolean; pollEvery: string };

/** `job add` and `job status`: start a release and read its step table. */
export function register(job: Command): void {
  addConnectionOptions(
    addGatewayOptions(job
      .command('add'))
      .description('validate a job document and start its release')
      .addArgument(new Argument('<cloud>', 'target cloud').choices(CLOUDS))
      .argument('<file>', 'job document (JSON), or - for stdin')
      .option('--wait', 'follow the release and exit 0 when it succeeds, 1 when it fails')
      .option('--timeout <duration>', 'with --wait: give up after this long (90s, 30m, 2h), exit 3; the release goes on', durationMs)
      .option('--json', 'print machine-readable output (errors too: {"error": {...}})')
      .option('--poll-every <interval>', 'for utctime "always": how often the schedule looks for a new build (30m, 1h, 1d)', durationText, '1h'),
  )
    .addHelpText(
      'after',
      `
With --wait, a queue the release needs that no worker polls is reported on stderr (with the
command that starts a worker); --timeout bounds the wait. Exit codes: 0 succeeded (or started),
1 failed/cancelled/refused, 2 invalid input, 3 --timeout reached.

Examples:
  imagecast job add local examples/jobs/local-demo.json --wait --timeout 30m
  IMAGECAST_TOKEN=$(cat token) imagecast job add ec2 job.json --gateway https://imagecast.example:8233 --wait
  imagecast job add ec2 job.json --gateway https://imagecast.example:8233 --oidc github --wait   # no secret (docs/security.md)`,
    )
    .action((cloud: CloudName, file: string, flags: AddFlags) => runCommand(flags, () => add(cloud, file, flags)));

  addConnectionOptions(
    job
      .command('status')
      .description("show a release's steps: state, duration, attempts (live, with the last failure while retrying), what each made")
      .argument('<release-id>', 'the id `job add` printed')
      .option('--json', 'print machine-readable output'),
  )
    .addHelpText(
      'after',
      `
When the release cannot answer (no worker polls its queue), status says so, shows what the
release last reported, and the command that starts a worker.

Example:
  imagecast job status release-local-demo-imagecast-demo-v20261125-b_release_`,
    )
    .action((releaseId: string, flags: ConnectionFlags & { json?: boolean }) =>
      runCommand(flags, async () => {
        const client = await connect(flags);
        try {
          const inspection = await client.inspectRelease(releaseId);
          // Attempts come from the history (the status itself only knows the outcome) and, live, from describe().
          const log = await client.releaseLog(releaseId).catch(() => []);
          const attempts = attemptsPerStep(log, inspection.pendingActivities);
          console.log(flags.json ? JSON.stringify(statusJson(inspection, attempts), null, 2) : formatInspection(inspection, attempts));
          return EXIT_OK;
        } finally {
          await client.close();
        }
      }),
    );
}

async function add(cloud: CloudName, file: string, flags: AddFlags): Promise<number> {
  if (flags.timeout !== undefined && !flags.wait) throw new UsageError('--timeout: only with --wait');
  const read = await readJobDocument(file);
  if (!read.ok) return reportError(new UsageError(read.error), flags.json, read.error);
  const document = read.doc;
  const gateway = await gatewayClient(flags);
  const gatewayUrl = gateway !== undefined;
  const client = gateway ?? (await connect(flags));
  try {
    const withCloud = gatewayUrl ? { cloud, ...(document as Record<string, unknown>) } : document;
    const parsedAlways = parseJob(withCloud, cloud);
    if (parsedAlways.ok && parsedAlways.job.utctime === 'always' && 'schedules' in client) {
      const watch = await client.schedules.watchBuilds(parsedAlways.job, { every: flags.pollEvery });
      console.log(
        flags.json
          ? JSON.stringify(watch)
          : `utctime "always": schedule ${watch.scheduleId} polls ${parsedAlways.job.download_url} every ${watch.every} and releases each new build (imagecast schedule list|trigger|pause|delete)`,
      );
      return EXIT_OK;
    }
    const { releaseId } = await client.startRelease(withCloud, { cloud });
    const link = webUiLink(releaseId, flags.namespace);
    if (flags.json && !flags.wait) console.log(JSON.stringify({ releaseId, webUi: link }));
    else if (!flags.json) console.log(`started ${releaseId}${link ? `\n${link}` : ''}`);
    if (!flags.wait) return EXIT_OK;
    const status = await client.waitForRelease(releaseId, {
      onProgress: (s) => !flags.json && console.log(`  ${s.currentStep ?? s.state}…`),
      timeoutMs: flags.timeout,
      ...('inspectRelease' in client && { onWorkerProblem: printWorkerProblems }),
    });
    console.log(flags.json ? JSON.stringify(status) : formatStatus(status));
    return status.state === 'succeeded' ? EXIT_OK : EXIT_FAILURE;
  } finally {
    if ('close' in client) await (client as ImagecastClient).close();
  }
}

/** While waiting: say on stderr (stdout stays the result) which queue has no worker, or that one came. */
export function printWorkerProblems(problems: WorkerProblem[]): void {
  if (problems.length === 0) console.error('imagecast: a worker polls the queues now');
  for (const p of problems) console.error(`imagecast: ${p.message}`);
}

function statusJson(inspection: ReleaseInspection, attempts: Record<string, number>): Record<string, unknown> {
  const { status, ...rest } = inspection;
  if (!status) return rest as unknown as Record<string, unknown>;
  return {
    ...status,
    steps: status.steps.map((s) => ({ ...s, attempts: attempts[s.name] ?? 0 })),
    ...rest,
    ...(status.state === 'waiting' && inspection.startAt && { waitingUntil: inspection.startAt }),
  };
}

function formatInspection(inspection: ReleaseInspection, attempts: Record<string, number>): string {
  const lines: string[] = [];
  if (inspection.status) {
    lines.push(formatStatus(inspection.status, { attempts, retries: retriesPerStep(inspection.pendingActivities), startAt: inspection.startAt }));
  } else {
    const r = inspection.reported;
    lines.push(
      `${inspection.releaseId}  ${r.state ?? inspection.workflowStatus.toLowerCase()}  ${r.imageName ?? ''}`.trimEnd(),
      `  last reported step: ${r.step ?? '?'} (${r.cloud ?? '?'}/${r.account ?? '?'}, started ${inspection.startedAt.toISOString()})`,
      `  no step table: ${inspection.statusProblem ?? 'unknown'}`,
    );
    for (const [step, retries] of Object.entries(retriesPerStep(inspection.pendingActivities))) {
      for (const retry of retries) lines.push(`  ${step}: ${retry}`);
    }
  }
  for (const p of inspection.workerProblems) lines.push(`  ! ${p.message}`);
  return lines.join('\n');
}
