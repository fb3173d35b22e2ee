import type { Command } from 'commander';
import { parseScope, parseTtl } from '../../../activities/accounts/ci-tokens.js';
import { TrustPolicies, type TrustPolicy } from '../../../activities/accounts/oidc/trust-policies.js';
import { EXIT_OK } from '../exit-codes.js';
import { addStoreOptions, cliActor, withDatabase } from '../store-connection.js';
import { runCommand } from '../command-output.js';
import { durationText } from '../option-parsers.js';

/** `imagecast trust add|list|show|delete`: which CI OIDC identities may release what, with no stored secret. */
export function register(program: Command): void {
  const trust = program
    .command('trust')
    .description('trust policies: which CI OIDC identities (issuer, audience, claims) imagecast-gateway lets start which releases')
    .addHelpText('after', '\nEnvironment: IMAGECAST_DATABASE_URL. See docs/security.md, "Keyless CI".\n\nExample:\n  imagecast trust list');

  addStoreOptions(trust.command('add'))
    .description('trust tokens from an OIDC issuer whose claims match, for one scope')
    .requiredOption('--issuer <url>', 'the token issuer (iss), e.g. https://token.actions.githubusercontent.com')
    .requiredOption('--audience <aud>', 'the audience CI mints the token for (aud); imagecast job add --oidc defaults it to the gateway URL')
    .requiredOption('--scope <scope>', 'release:<cloud>:<account-or-group>')
    .option('--claim <name=pattern>', 'a claim that must match (repeat; exact, or * and ? as wildcards); at least one', collect, [])
    .option('--image-prefix <prefix>', 'cloud_image_name must start with this')
    .option('--max-ttl <duration>', 'refuse tokens that live longer than this (exp - iat), e.g. 1h', durationText)
    .option('--jwks-url <url>', "the issuer's key set, when its /.well-known/openid-configuration should not be used")
    .option('--description <text>', 'what it is for (shown by list)')
    .option('--json', 'print the policy as JSON')
    .addHelpText(
      'after',
      `
Example (GitHub Actions, main branch of org/images, environment prod):
  imagecast trust add --issuer https://token.actions.githubusercontent.com \\
    --audience https://imagecast.example:8443 --claim repository=org/images \\
    --claim ref=refs/heads/main --claim environment=prod \\
    --scope release:ec2:sles-prod --image-prefix sles-15 --max-ttl 1h`,
    )
    .action((flags: AddFlags) =>
      run(flags, async (policies) => {
        const policy = await policies.add({
          issuer: flags.issuer,
          audience: flags.audience,
          jwksUrl: flags.jwksUrl,
          claims: flags.claim,
          scope: parseScope(flags.scope),
          imagePrefix: flags.imagePrefix,
          maxTtlSeconds: flags.maxTtl === undefined ? undefined : parseTtl(flags.maxTtl),
          description: flags.description,
          createdBy: cliActor(),
        });
        return flags.json ? JSON.stringify(policy, null, 2) : `added ${describe(policy)}`;
      }),
    );

  addStoreOptions(trust.command('list'))
    .description('list trust policies')
    .option('--json', 'print JSON')
    .addHelpText('after', '\nExample:\n  imagecast trust list --json')
    .action((flags: { databaseUrl?: string; json?: boolean }) =>
      run(flags, async (policies) => {
        const all = await policies.list();
        return flags.json ? JSON.stringify(all, null, 2) : all.map(describe).join('\n') || 'no trust policies';
      }),
    );

  addStoreOptions(trust.command('show'))
    .description('show one trust policy')
    .argument('<id>', 'policy id (from list)')
    .option('--json', 'print JSON')
    .addHelpText('after', '\nExample:\n  imagecast trust show tp_3f9a1c2b7d')
    .action((id: string, flags: { databaseUrl?: string; json?: boolean }) =>
      run(flags, async (policies) => {
        const policy = await policies.show(id);
        return flags.json ? JSON.stringify(policy, null, 2) : detail(policy);
      }),
    );

  addStoreOptions(trust.command('delete'))
    .description('delete a trust policy at once (tokens it allowed are refused from now on)')
    .argument('<id>', 'policy id (from list)')
    .option('--json', 'print JSON: {"deleted": ID}')
    .addHelpText('after', '\nExample:\n  imagecast trust delete tp_3f9a1c2b7d')
    .action((id: string, flags: { databaseUrl?: string; json?: boolean }) =>
      run(flags, async (policies) => {
        await policies.delete(id, cliActor());
        return flags.json ? JSON.stringify({ deleted: id }) : `deleted ${id}`;
      }),
    );
}

interface AddFlags {
  databaseUrl?: string;
  issuer: string;
  audience: string;
  scope: string;
  claim: string[];
  imagePrefix?: string;
  maxTtl?: string;
  jwksUrl?: string;
  description?: string;
  json?: boolean;
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

function claimsText(p: TrustPolicy): string {
  return Object.entries(p.claims).sort(([a], [b]) => a.localeCompare(b)).map(([k, v]) => `${k}=${v}`).join(' ');
}

function describe(p: TrustPolicy): string {
  const limits = [p.imagePrefix && `prefix ${p.imagePrefix}`, p.maxTtlSeconds && `max ttl ${p.maxTtlSeconds} s`].filter(Boolean);
  return `${p.id}  ${p.scope}  ${p.issuer} (aud ${p.audience})  ${claimsText(p)}${limits.length ? `  ${limits.join(', ')}` : ''}${p.description ? `  ${p.description}` : ''}`;
}

function detail(p: TrustPolicy): string {
  return [
    `id:           ${p.id}`,
    `scope:        ${p.scope}`,
    `issuer:       ${p.issuer}`,
    `audience:     ${p.audience}`,
    `jwks:         ${p.jwksUrl ?? '(from the issuer\'s discovery document)'}`,
    `claims:       ${claimsText(p)}`,
    `image prefix: ${p.imagePrefix ?? '(any)'}`,
    `max ttl:      ${p.maxTtlSeconds === null ? '(the issuer\'s)' : `${p.maxTtlSeconds} s`}`,
    `description:  ${p.description ?? ''}`,
    `created:      ${p.createdAt.toISOString()} by ${p.createdBy}`,
  ].join('\n');
}

async function run(flags: { databaseUrl?: string; json?: boolean }, action: (policies: TrustPolicies) => Promise<string>): Promise<void> {
  await runCommand(flags, async () => {
    console.log(await withDatabase(flags, (pool) => action(new TrustPolicies(pool))));
    return EXIT_OK;
  });
}
