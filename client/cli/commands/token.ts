import type { Command } from 'commander';
import { CiTokens, parseTokenScope, parseTtl, type TokenInfo } from '../../../activities/accounts/ci-tokens.js';
import { EXIT_OK } from '../exit-codes.js';
import { addStoreOptions, cliActor, withDatabase } from '../store-connection.js';
import { runCommand } from '../command-output.js';
import { durationText, positiveInteger } from '../option-parsers.js';

/** `imagecast token create|list|revoke`: scoped, short-lived tokens CI starts releases with. */
export function register(program: Command): void {
  const token = program
    .command('token')
    .description('scoped, short-lived tokens for CI (used with imagecast-gateway); only their hash is stored')
    .addHelpText('after', '\nEnvironment: IMAGECAST_DATABASE_URL.\n\nExample:\n  imagecast token list');

  addStoreOptions(token.command('create'))
    .description('make a token; it is printed once, on stdout')
    .requiredOption('--scope <scope>', 'release:<cloud>:<account-or-group> starts releases; revoke:<cloud>:<account-or-group> revokes them (imagecast release revoke --gateway)')
    .requiredOption('--ttl <duration>', 'lifetime: 30m, 1h, 2d (at most 30d)', durationText)
    .option('--max-uses <n>', 'releases it may start (a revoke: token, revokes)', positiveInteger(1))
    .option('--image-prefix <prefix>', 'cloud_image_name must start with this')
    .option('--source-cidr <cidr>', 'only requests from this address block, e.g. 10.1.0.0/16')
    .option('--description <text>', 'what it is for (shown by list)')
    .option('--json', 'print the token and its limits as JSON')
    .addHelpText(
      'after',
      `
Example:
  imagecast token create --scope release:ec2:sles-prod --ttl 1h --max-uses 1 --image-prefix sles-15 \\
    --source-cidr 10.20.0.0/16 > token      # give it to the CI job as IMAGECAST_TOKEN
  imagecast token create --scope revoke:ec2:sles-prod --ttl 30m --max-uses 1 > revoke-token`,
    )
    .action((flags: CreateFlags) =>
      run(flags, async (tokens) => {
        const { token: secret, info } = await tokens.create({
          scope: parseTokenScope(flags.scope),
          ttlSeconds: parseTtl(flags.ttl),
          maxUses: flags.maxUses,
          imagePrefix: flags.imagePrefix,
          sourceCidr: flags.sourceCidr,
          description: flags.description,
          createdBy: cliActor(),
        });
        if (flags.json) return JSON.stringify({ token: secret, ...info }, null, 2);
        console.error(`token ${info.id} for ${info.scope}, expires ${info.expiresAt.toISOString()} (shown once: keep it now)`);
        return secret;
      }),
    );

  addStoreOptions(token.command('list'))
    .description('list tokens (never the tokens themselves)')
    .option('--json', 'print JSON')
    .addHelpText('after', '\nExample:\n  imagecast token list --json')
    .action((flags: { databaseUrl?: string; json?: boolean }) =>
      run(flags, async (tokens) => {
        const all = await tokens.list();
        return flags.json ? JSON.stringify(all, null, 2) : all.map(describe).join('\n') || 'no tokens';
      }),
    );

  addStoreOptions(token.command('revoke'))
    .description('revoke a token at once')
    .argument('<id>', 'token id (from list)')
    .option('--json', 'print JSON: {"revoked": ID}')
    .addHelpText('after', '\nExample:\n  imagecast token revoke 3f9a1c2b7d4e')
    .action((id: string, flags: { databaseUrl?: string; json?: boolean }) =>
      run(flags, async (tokens) => {
        await tokens.revoke(id, cliActor());
        return flags.json ? JSON.stringify({ revoked: id }) : `revoked ${id}`;
      }),
    );
}

interface CreateFlags {
  databaseUrl?: string;
  scope: string;
  ttl: string;
  maxUses?: number;
  imagePrefix?: string;
  sourceCidr?: string;
  description?: string;
  json?: boolean;
}

function describe(t: TokenInfo): string {
  const state = t.revokedAt ? 'revoked' : t.expiresAt.getTime() <= Date.now() ? 'expired' : 'active';
  const limits = [
    `uses ${t.uses}${t.maxUses ? `/${t.maxUses}` : ''}`,
    t.imagePrefix && `prefix ${t.imagePrefix}`,
    t.sourceCidr && `from ${t.sourceCidr}`,
  ].filter(Boolean);
  return `${t.id}  ${t.scope}  ${state}  expires ${t.expiresAt.toISOString()}  ${limits.join(', ')}${t.description ? `  ${t.description}` : ''}`;
}

async function run(flags: { databaseUrl?: string; json?: boolean }, action: (tokens: CiTokens) => Promise<string>): Promise<void> {
  await runCommand(flags, async () => {
    console.log(await withDatabase(flags, (pool) => action(new CiTokens(pool))));
    return EXIT_OK;
  });
}
