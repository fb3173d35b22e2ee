#!/usr/bin/env node
// A local OIDC issuer for trying keyless CI by hand (docs/oidc-issuer-fake.md).
import { Command } from 'commander';
import { startOidcIssuer, type SigningAlg } from './issuer.js';

const flags = new Command('oidc-issuer')
  .description('Serve an OIDC discovery document and JWKS on loopback; print the issuer URL and, with --mint, ID tokens')
  .option('--port <port>', 'port to listen on (default: a free one)', '0')
  .option('--alg <alg>', 'RS256 or ES256', 'RS256')
  .option('--mint <claims>', 'print one token with these claims (JSON), e.g. \'{"repository":"org/repo","ref":"refs/heads/main"}\'')
  .option('--audience <aud>', 'aud of the minted token', 'imagecast')
  .option('--ttl <seconds>', 'lifetime of the minted token', '300')
  .addHelpText('after', `
Output: the issuer URL on the first line, then the minted token (if --mint). It serves until
stopped (Ctrl-C); a token minted by it verifies only while it runs.

Example:
  node dist/infra/fakes/oidc-issuer/main.js --port 8900 --audience http://127.0.0.1:8233 \\
    --mint '{"repository":"org/images","ref":"refs/heads/main"}'`)
  .parse()
  .opts<{ port: string; alg: string; mint?: string; audience: string; ttl: string }>();

if (flags.alg !== 'RS256' && flags.alg !== 'ES256') {
  console.error(`oidc-issuer: --alg: expected RS256 or ES256, got "${flags.alg}"`);
  process.exit(2);
}
let claims: Record<string, unknown> | undefined;
try {
  claims = flags.mint === undefined ? undefined : (JSON.parse(flags.mint) as Record<string, unknown>);
  if (claims !== undefined && (typeof claims !== 'object' || claims === null || Array.isArray(claims))) throw new Error('not a JSON object');
} catch (error) {
  console.error(`oidc-issuer: --mint: expected a JSON object of claims, got ${flags.mint} (${(error as Error).message})`);
  process.exit(2);
}
const issuer = await startOidcIssuer({ port: Number(flags.port), alg: flags.alg as SigningAlg });
console.log(issuer.issuer);
if (claims) console.log(await issuer.mint(claims, { audience: flags.audience, expiresInSeconds: Number(flags.ttl) }));
await new Promise<void>((resolve) => {
  process.once('SIGTERM', resolve);
  process.once('SIGINT', resolve);
});
await issuer.stop();
