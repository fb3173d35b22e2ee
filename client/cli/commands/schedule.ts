import { Option, type Command } from 'commander';
import { CLOUDS } from '../../../schemas/steps.js';
import type { ImagecastClient, RetirementSchedule } from '../../sdk/index.js';
import { addConnectionOptions, connect, type ConnectionFlags } from '../client-config.js';
import { EXIT_OK } from '../exit-codes.js';
import { runCommand } from '../command-output.js';
import { durationText, nonNegativeInteger } from '../option-parsers.js';

interface DeprecateFlags extends ConnectionFlags {
  cloud: string;
  account: string;
  imageLine: string;
  keep: number;
  every: string;
  olderThan?: number;
  deleteAfter?: number;
  dryRun?: boolean;
  id?: string;
  paused?: boolean;
  json?: boolean;
}

/** `imagecast schedule deprecate|list|pause|resume|trigger|delete`: scheduled retirement of old images. */
export function register(program: Command): void {
  const schedule = program
    .command('schedule')
    .description('Temporal Schedules that deprecate (and later delete) old images of an image line')
    .addHelpText('after', '\nExample:\n  imagecast schedule list');

  addConnectionOptions(schedule.command('deprecate'))
    .description('create a schedule that keeps the newest N releases of a line and deprecates the rest')
    .addOption(new Option('--cloud <cloud>', 'cloud of the images').choices(CLOUDS).makeOptionMandatory())
    .requiredOption('--account <name>', 'account the images are in')
    .requiredOption('--image-line <template>', 'the cloud_image_name template, e.g. "sles-15-v{date}-b{release}"')
    .option('--keep <n>', 'newest releases that stay active (at least 1)', nonNegativeInteger(3), 1)
    .option('--every <interval>', 'how often: 30m, 12h, 1d', durationText, '1d')
    .option('--older-than <days>', 'deprecate only releases published at least this many days ago', nonNegativeInteger(30))
    .option('--delete-after <days>', 'delete images deprecated at least this many days ago (images past the deletion date their cloud records, GCE, are deleted either way)', nonNegativeInteger(180))
    .option('--dry-run', 'runs only report what they would change')
    .option('--paused', 'create it paused')
    .option('--id <schedule-id>', 'schedule id (default deprecate-<cloud>-<account>-<line>)')
    .option('--json', 'print JSON')
    .addHelpText(
      'after',
      `
Runs overlap-policy SKIP. Every deprecation and deletion is recorded in the catalog.

Example:
  imagecast schedule deprecate --cloud ec2 --account sles-prod --image-line "sles-15-v{date}-b{release}" \\
    --keep 3 --every 1d --delete-after 180`,
    )
    .action((flags: DeprecateFlags) =>
      run(flags, async (client) => {
        const created = await client.schedules.create(
          {
            cloud: flags.cloud,
            account: flags.account,
            image_line: flags.imageLine,
            keep: flags.keep,
            ...(flags.olderThan !== undefined && { older_than_days: flags.olderThan }),
            ...(flags.deleteAfter !== undefined && { delete_after_days: flags.deleteAfter }),
            dry_run: flags.dryRun ?? false,
          },
          { every: flags.every, scheduleId: flags.id, paused: flags.paused },
        );
        return flags.json ? created : `created ${describe(created)}`;
      }),
    );

  addConnectionOptions(schedule.command('list'))
    .description('list every schedule Imagecast made: retirement schedules, utctime "always" build watches and the image list renewal, whatever their id')
    .option('--json', 'print JSON')
    .addHelpText('after', '\nExample:\n  imagecast schedule list --json')
    .action((flags: ConnectionFlags & { json?: boolean }) =>
      run(flags, async (client) => {
        const all = await client.schedules.list();
        return flags.json ? all : all.map(describe).join('\n') || 'no schedules';
      }),
    );

  const byId = (name: string, description: string, act: (client: ImagecastClient, id: string) => Promise<unknown>) =>
    addConnectionOptions(schedule.command(name))
      .description(description)
      .argument('<schedule-id>', 'from schedule list')
      .option('--json', 'print JSON')
      .addHelpText('after', `\nExample:\n  imagecast schedule ${name} deprecate-ec2-sles-prod-sles-15-vdate-brelease`)
      .action((id: string, flags: ConnectionFlags & { json?: boolean }) =>
        run(flags, async (client) => {
          const result = await act(client, id);
          return flags.json ? (result ?? { [name]: id }) : typeof result === 'string' ? result : `${name}: ${id}${result ? `\n${JSON.stringify(result, null, 2)}` : ''}`;
        }),
      );
  byId('pause', 'pause a schedule', (c, id) => c.schedules.pause(id));
  byId('resume', 'resume a paused schedule', (c, id) => c.schedules.resume(id));
  byId('trigger', 'run a schedule now and print what the run changed', (c, id) => c.schedules.trigger(id));
  byId('delete', 'delete a schedule (the catalog keeps what its runs did)', (c, id) => c.schedules.delete(id));
}

function describe(s: RetirementSchedule): string {
  const state = s.paused ? 'paused' : `next ${s.nextRunAt?.toISOString() ?? '?'}`;
  if (s.kind === 'imagelist-renewal') return `${s.scheduleId}  every ${s.every}  renews the signed image lists past half their lifetime  ${state}`;
  if (s.kind === 'watch') {
    return `${s.scheduleId}  every ${s.every}  releases new builds of ${String(s.job?.cloud_image_name)} from ${String(s.job?.download_url)}  ${state}`;
  }
  const p = s.policy;
  const rules = [
    `keep ${p.keep}`,
    p.older_than_days !== undefined && `older than ${p.older_than_days}d`,
    p.delete_after_days !== undefined && `delete after ${p.delete_after_days}d`,
    p.dry_run && 'dry run',
  ].filter(Boolean);
  return `${s.scheduleId}  every ${s.every}  ${p.cloud}/${p.account} ${p.image_line}  ${rules.join(', ')}  ${state}`;
}

async function run(flags: ConnectionFlags & { json?: boolean }, action: (client: ImagecastClient) => Promise<unknown>): Promise<void> {
  await runCommand(flags, async () => {
    const client = await connect(flags);
    try {
      const result = await action(client);
      console.log(typeof result === 'string' ? result : JSON.stringify(result, null, 2));
      return EXIT_OK;
    } finally {
      await client.close();
    }
  });
}
