import type { ImageListRenewalResult } from '../../sdk/index.js';
import { InvalidArgumentError, type Command } from 'commander';
import {
  DEFAULT_RENEWAL_EVERY,
  IMAGELIST_RENEWAL_SCHEDULE_ID,
  renewalIntervalProblem,
} from '../../sdk/imagelist-renewal.js';
import { addConnectionOptions, connect, type ConnectionFlags } from '../client-config.js';
import { runCommand } from '../command-output.js';
import { EXIT_FAILURE, EXIT_OK } from '../exit-codes.js';

type Flags = ConnectionFlags & { json?: boolean };

/** `imagecast imagelist renew|schedule`: publish again, on the workers, every list past half its lifetime. */
export function registerRenewal(imagelist: Command): void {
  addConnectionOptions(imagelist.command('renew'))
    .description(
      'renew now, on the workers, every published list past half its lifetime (as the renewal schedule does)',
    )
    .option('--json', 'print the result as JSON')
    .addHelpText(
      'after',
      `
Each list due is published again as "imagelist publish" would (hv:version bumped, new dates, signed by
its endorser, uploaded); the others are left alone. Runs on the workflows queue's workers, which need the
master key and IMAGECAST_CONFIG's imagelist_publish mappings (docs/imagelists.md#renewal). A renewed list keeps
the lifetime of its last publish (publish --lifetime N, else its own). Lists that could not be renewed are
named with the reason every time; the workers' webhooks and the endorsers (email) are told once per list and
reason, until it is published again ("already told" names the others).
Exit codes: 0 every list due renewed (or none due), 1 some list not renewed, or the server unreachable.

Example:
  imagecast imagelist renew`,
    )
    .action((flags: Flags) =>
      run(flags, async (client) => {
        const result = await client.imageListRenewal.renewNow();
        return { output: flags.json ? result : renewalText(result), failed: result.notRenewed.length > 0 };
      }),
    );

  addConnectionOptions(imagelist.command('schedule'))
    .description(
      `create (or keep) the Temporal Schedule "${IMAGELIST_RENEWAL_SCHEDULE_ID}" that renews the lists`,
    )
    .option(
      '--every <interval>',
      'how often it looks for lists to renew: 1m to 12h',
      renewalInterval,
      DEFAULT_RENEWAL_EVERY,
    )
    .option('--json', 'print JSON')
    .addHelpText(
      'after',
      `
One schedule for every list: each run renews the published lists past half their lifetime, overlap
policy SKIP. Run it again to change the interval; see, pause, resume, trigger or delete it with
"imagecast schedule list|pause|resume|trigger|delete ${IMAGELIST_RENEWAL_SCHEDULE_ID}".

Example:
  imagecast imagelist schedule --every 6h`,
    )
    .action((flags: Flags & { every: string }) =>
      run(flags, async (client) => {
        const s = await client.imageListRenewal.keepSchedule({ every: flags.every });
        const state = s.paused ? 'paused' : `next run ${s.nextRunAt?.toISOString() ?? '?'}`;
        return {
          output: flags.json
            ? s
            : `${s.created ? 'created' : 'kept'} schedule ${s.scheduleId}: every ${s.every}, ${state}`,
          failed: false,
        };
      }),
    );
}

export function renewalText(r: ImageListRenewalResult): string {
  const lines = [
    ...r.renewed.map(
      (l) =>
        `renewed ${JSON.stringify(l.title)} ${l.identifier}: version ${l.version} (was ${l.previousVersion}), expires ${l.expires}${l.lifetimeDays ? ` (lifetime ${l.lifetimeDays} days)` : ''}`,
    ),
    ...r.skipped.map((l) => `skipped ${JSON.stringify(l.title)} ${l.identifier}: ${l.reason}`),
    ...r.notRenewed.map(
      (l) => `NOT RENEWED ${JSON.stringify(l.title)} ${l.identifier} (expires ${l.expiresAt}): ${l.reason}`,
    ),
  ];
  const already = new Set(r.notified?.alreadyNotified ?? []);
  if (r.notified && r.notRenewed.some((l) => !already.has(l.identifier)))
    lines.push(
      `told: ${[...r.notified.webhooks.map((w) => `webhook ${w}`), ...r.notified.emailed].join(', ') || 'nobody (no webhook or SMTP server on the workers)'}`,
    );
  if (already.size > 0)
    lines.push(
      `already told (not again until published or the reason changes): ${r.notRenewed
        .filter((l) => already.has(l.identifier))
        .map((l) => JSON.stringify(l.title))
        .join(', ')}`,
    );
  if (r.notifyError) lines.push(`could not tell anyone: ${r.notifyError}`);
  return lines.join('\n') || 'no list is due for renewal';
}

/** --every, checked before anything is contacted: commander names the flag and what was given (exit 2). */
export function renewalInterval(value: string): string {
  const every = value.trim();
  const problem = renewalIntervalProblem(every);
  if (problem) throw new InvalidArgumentError(problem);
  return every;
}

async function run(
  flags: Flags,
  action: (client: Awaited<ReturnType<typeof connect>>) => Promise<{ output: unknown; failed: boolean }>,
): Promise<void> {
  await runCommand(flags, async () => {
    const client = await connect(flags);
    try {
      const { output, failed } = await action(client);
      console.log(typeof output === 'string' ? output : JSON.stringify(output, null, 2));
      return failed ? EXIT_FAILURE : EXIT_OK;
    } finally {
      await client.close();
    }
  });
}
