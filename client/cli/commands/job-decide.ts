import { userInfo } from 'node:os';
import type { Command } from 'commander';
import type { DecisionOutcome, ImagecastClient } from '../../sdk/index.js';
import { addConnectionOptions, type ConnectionFlags } from '../client-config.js';
import { EXIT_OK } from '../exit-codes.js';
import { runCommand } from '../command-output.js';
import { addGatewayOptions, gatewayClient, type GatewayFlags } from '../gateway-connection.js';

type Flags = ConnectionFlags & GatewayFlags & { json?: boolean };

/** A decision through imagecast-gateway when --gateway/--oidc (or IMAGECAST_GATEWAY_URL) is given, else Temporal. */
function decideVia(withClient: WithClient, flags: Flags, decide: (client: Decider) => Promise<DecisionOutcome>, show: (o: DecisionOutcome) => void): Promise<void> {
  const viaGateway = Boolean(flags.gateway ?? process.env.IMAGECAST_GATEWAY_URL) || flags.oidc !== undefined || flags.oidcAudience !== undefined;
  if (!viaGateway) {
    return withClient(flags, async (client) => {
      show(await decide({ resume: (id, skip) => client.resumeRelease(id, { skip, by: whoAmI() }), abort: (id) => client.abortRelease(id, { by: whoAmI() }) }));
      return EXIT_OK;
    });
  }
  return runCommand(flags, async () => {
    // The gateway records who decided from the token (token id, or the CI identity).
    const gateway = (await gatewayClient(flags))!;
    show(await decide({ resume: (id, skip) => gateway.resumeRelease(id, { skip }), abort: (id) => gateway.abortRelease(id) }));
    return EXIT_OK;
  });
}

interface Decider {
  resume(releaseId: string, skip: string[]): Promise<DecisionOutcome>;
  abort(releaseId: string): Promise<DecisionOutcome>;
}
type WithClient = (flags: Flags, action: (client: ImagecastClient) => Promise<number>) => Promise<void>;

const EXIT_HELP = `Exit codes: 0 the release took the decision (its new state is printed), 1 it was refused
(the release is not blocked, a region named is not blocked: the reason is printed), the
release had ended or is unknown, or the gateway refused the token; 2 invalid input.
With --gateway the decision is recorded as the token's (token:<id>, or the CI's OIDC identity).`;

/** `job resume|abort`: a person's decision on a blocked release. */
export function registerDecisions(job: Command, withClient: WithClient): void {
  addConnectionOptions(addGatewayOptions(job.command('resume'), 'decide'))
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
  imagecast job resume release-local-test-demo-v20261125-b_release_ --skip region-4
  imagecast job resume RELEASE-ID --skip eu-west-1 --gateway https://imagecast.example:8443 --oidc github`,
    )
    .action((id: string, flags: Flags & { skip?: string[] }) =>
      decideVia(withClient, flags, (c) => c.resume(id, flags.skip ?? []), (o) => print(id, flags.skip?.length ? 'skip' : 'resume', o, Boolean(flags.json))),
    );

  addConnectionOptions(addGatewayOptions(job.command('abort'), 'decide'))
    .description('a blocked release: remove what it made and end it failed (aborted by you)')
    .argument('<release-id>', 'the blocked release')
    .option('--json', 'print JSON')
    .addHelpText('after', `\n${EXIT_HELP}\n\nExample:\n  imagecast job abort release-local-test-demo-v20261125-b_release_`)
    .action((id: string, flags: Flags) => decideVia(withClient, flags, (c) => c.abort(id), (o) => print(id, 'abort', o, Boolean(flags.json))));
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
