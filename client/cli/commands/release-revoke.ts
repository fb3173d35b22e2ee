import { userInfo } from 'node:os';
import type { Command } from 'commander';
import type { RevokeOutcome } from '../../sdk/index.js';
import { addConnectionOptions, connect, type ConnectionFlags } from '../client-config.js';
import { EXIT_FAILURE, EXIT_OK } from '../exit-codes.js';
import { runCommand } from '../command-output.js';
import { addGatewayOptions, gatewayClient, type GatewayFlags } from '../gateway-connection.js';
import { UsageError } from '../store-connection.js';

type Flags = ConnectionFlags & GatewayFlags & { json?: boolean; reason?: string };

/** `imagecast release revoke`: take a published release back. */
export function register(program: Command): void {
  const release = program
    .command('release')
    .description('act on published releases')
    .addHelpText(
      'after',
      '\nExample:\n  imagecast release revoke release-ec2-sles-prod-sles-15-sp6-v20261201 --reason "boot failure on m7i"',
    );

  addConnectionOptions(addGatewayOptions(release.command('revoke'), 'revoke'))
    .description(
      'revoke a finished release: in every account and region its images are unshared and deprecated now, and the images it replaced are current again',
    )
    .argument(
      '<release-id>',
      'the release (job list shows the ids; a second run of the same id the same day is the one revoked)',
    )
    .option('--reason <text>', 'why: kept in the catalog and the audit log with who revoked')
    .option('--json', 'print JSON')
    .addHelpText(
      'after',
      `
Signed image lists (job field image_lists) that carry the release's entry are published again
without it (an empty list is published empty); the entry of the release it had replaced is not
put back (imagecast imagelist image add does that).
Revoking again is harmless: a release revoked already is reported so and nothing changes, except
that lists still carrying it are published without it.
A region whose cloud refuses blocks the revoke like a release: the revoke's id (revoke-<release-id>)
takes imagecast job resume / job resume --skip REGION / job abort. Through --gateway the token's scope
must be revoke:<cloud>:<account-or-group> (imagecast token create --scope revoke:…).

Exit codes: 0 revoked (or already revoked), 1 refused (unknown, still running, nothing published,
a cloud that cannot revoke: the reason is printed), failed, or blocked (waiting for a decision); 2 invalid input.

Examples:
  imagecast release revoke release-local-test-demo-v20261125-b_release_ --reason "kernel regression"
  imagecast release revoke RELEASE-ID --json --gateway https://imagecast.example:8443`,
    )
    .action((id: string, flags: Flags) =>
      runCommand(flags, async () => {
        if (flags.reason !== undefined && (flags.reason.trim() === '' || flags.reason.length > 500))
          throw new UsageError('--reason: some text, at most 500 characters');
        const reason = flags.reason?.trim();
        const gateway = await gatewayClient(flags);
        let outcome: RevokeOutcome;
        if (gateway) {
          // The gateway records the token (or CI identity) as who revoked.
          outcome = await gateway.revokeRelease(id, { ...(reason && { reason }) });
        } else {
          const client = await connect(flags);
          try {
            outcome = await client.revokeRelease(id, { by: whoAmI(), ...(reason && { reason }) });
          } finally {
            await client.close();
          }
        }
        console.log(flags.json ? JSON.stringify({ releaseId: id, ...outcome }) : describe(id, outcome));
        return outcome.status.state === 'succeeded' ? EXIT_OK : EXIT_FAILURE;
      }),
    );
}

function describe(releaseId: string, outcome: RevokeOutcome): string {
  const { status, result, revokeId } = outcome;
  if (result?.alreadyRevoked) {
    const earlier = result.alreadyRevoked;
    const said = `${releaseId}: already revoked at ${earlier.at}${earlier.by ? ` by ${earlier.by}` : ''}${earlier.reason ? ` (${earlier.reason})` : ''}`;
    // Revoking again finishes the lists of a revoke whose list publication failed (or predates it).
    if (result.imageLists?.length)
      return `${said}; image lists published again without it: ${result.imageLists.map((l) => `${l.title} ${l.version}`).join(', ')}`;
    return `${said}; nothing changed`;
  }
  if (status.state === 'blocked') {
    const blocked = status.blocked!;
    return [
      `${releaseId}: revoke ${revokeId} is blocked in ${blocked.step}: ${blocked.regions.map((r) => `${r.region} (${r.reason})`).join('; ')}`,
      'resolve with:',
      ...blocked.resolve.map((c) => `  ${c}`),
    ].join('\n');
  }
  if (status.state !== 'succeeded')
    return `${releaseId}: revoke ${revokeId} ${status.state}: ${status.error ?? ''}`;
  const lines = status.steps.map((s) => `  ${s.name}: ${s.detail ?? s.state}`);
  return [
    `${releaseId}: revoked (${revokeId})`,
    ...lines,
    ...(status.notification ? [`  notification: ${status.notification}`] : []),
  ].join('\n');
}

/** Who revoked, for the catalog and the audit log: the OS user running the CLI. */
function whoAmI(): string {
  try {
    return userInfo().username;
  } catch {
    return process.env.USER ?? 'unknown user';
  }
}
