import { userInfo } from 'node:os';
import type { Command } from 'commander';
import type { DecisionOutcome, ImagecastClient } from '../../sdk/index.js';
import { addConnectionOptions, type ConnectionFlags } from '../client-config.js';
import { EXIT_OK } from '../exit-codes.js';

type Flags = ConnectionFlags & { json?: boolean };
type WithClient = (flags: Flags, action: (client: ImagecastClient) => Promise<number>) => Promise<void>;

const EXIT_HELP = `Exit codes: 0 the release took the decision (its new state is printed), 1 it was refused
(the release is not blocked, a region named is not blocked: the reason is printed), the
release had ended or is unknown.`;

/** `job resume|abort`: a person's decision on a blocked release. */
export function registerDecisions(job: Command, withClient: WithClient): void {
  addConnectionOptions(job.command('resume'))
    .description('a blocked release: retry its blocked regions now; --skip drops regions (it finishes without them)')
    .argument('<release-id>', 'the blocked release (job status shows why it is blocked)')
    .option('--skip <region...>', 'blocked regions to drop from this release')
    .option('--json', 'print JSON')
    .addHelpText(
      'after',
      `
${EXIT_HELP}

Examples:
  imagecast job resume release-local-test-demo-v20261125-b_release_
  imagecast job resume release-local-test-demo-v20261125-b_release_ --skip region-4`,
    )
    .action((id: string, flags: Flags & { skip?: string[] }) =>
      withClient(flags, async (client) => {
        const outcome = await client.resumeRelease(id, { skip: flags.skip ?? [], by: whoAmI() });
        print(id, flags.skip?.length ? 'skip' : 'resume', outcome, Boolean(flags.json));
        return EXIT_OK;
      }),
    );

  addConnectionOptions(job.command('abort'))
    .description('a blocked release: remove what it made and end it failed (aborted by you)')
    .argument('<release-id>', 'the blocked release')
    .option('--json', 'print JSON')
    .addHelpText('after', `\n${EXIT_HELP}\n\nExample:\n  imagecast job abort release-local-test-demo-v20261125-b_release_`)
    .action((id: string, flags: Flags) =>
      withClient(flags, async (client) => {
        print(id, 'abort', await client.abortRelease(id, { by: whoAmI() }), Boolean(flags.json));
        return EXIT_OK;
      }),
    );
}

function print(releaseId: string, decision: string, outcome: DecisionOutcome, json: boolean): void {
  console.log(json ? JSON.stringify({ releaseId, decision, ...outcome }) : `${releaseId}: ${outcome.state}: ${outcome.detail}`);
}

/** Who decided, for the release's record: the OS user running the CLI. */
function whoAmI(): string {
  try {
    return userInfo().username;
  } catch {
    return process.env.USER ?? 'unknown user';
  }
}
