import type { Command } from 'commander';
import { ImagecastGateway } from '../sdk/index.js';
import { readSecretText } from './secret-input.js';
import { UsageError } from './store-connection.js';

/** The flags of a command that can go through imagecast-gateway instead of Temporal. */
export interface GatewayFlags {
  gateway?: string;
  tokenFile?: string;
  oidc?: string;
  oidcAudience?: string;
}

export function addGatewayOptions(command: Command, what = 'start'): Command {
  return command
    .option('--gateway <url>', `${what} through imagecast-gateway with a CI token instead of Temporal (env IMAGECAST_GATEWAY_URL)`)
    .option('--token-file <file>', 'the CI token for --gateway (default: env IMAGECAST_TOKEN)')
    .option('--oidc <ci>', "keyless: sign in to --gateway with this CI's OIDC ID token, github or gitlab (env IMAGECAST_OIDC)")
    .option('--oidc-audience <aud>', "the audience to ask the CI for (env IMAGECAST_OIDC_AUDIENCE; default: the gateway URL's origin)");
}

/** The gateway client the flags (or env) ask for; undefined to talk to Temporal directly. */
export async function gatewayClient(flags: GatewayFlags, env: NodeJS.ProcessEnv = process.env): Promise<ImagecastGateway | undefined> {
  const url = flags.gateway ?? (env.IMAGECAST_GATEWAY_URL || undefined);
  const oidc = oidcSource(flags.oidc ?? (env.IMAGECAST_OIDC || undefined), url);
  if (flags.oidcAudience !== undefined && !oidc) throw new UsageError('--oidc-audience: only with --oidc github|gitlab');
  if (!url) return undefined;
  if (oidc) return new ImagecastGateway({ url, oidc, audience: flags.oidcAudience ?? (env.IMAGECAST_OIDC_AUDIENCE || undefined) });
  return new ImagecastGateway({ url, token: await gatewayToken(flags.tokenFile, env) });
}

/** `--oidc github|gitlab`: only with a gateway (Temporal itself takes no ID tokens). */
function oidcSource(value: string | undefined, gatewayUrl: string | undefined): 'github' | 'gitlab' | undefined {
  if (value === undefined) return undefined;
  if (value !== 'github' && value !== 'gitlab') throw new UsageError(`--oidc: expected github or gitlab, got "${value}"`);
  if (!gatewayUrl) throw new UsageError('--oidc: only with --gateway URL (or IMAGECAST_GATEWAY_URL): ID tokens are checked by imagecast-gateway');
  return value;
}

/** The CI token: from --token-file (or - for stdin), else IMAGECAST_TOKEN; never an argv value. */
async function gatewayToken(tokenFile: string | undefined, env: NodeJS.ProcessEnv): Promise<string> {
  if (tokenFile) return (await readSecretText('--token-file', tokenFile)).trim();
  const token = env.IMAGECAST_TOKEN;
  if (!token) throw new UsageError('--gateway needs a token: set IMAGECAST_TOKEN or pass --token-file, or sign in keyless with --oidc github|gitlab');
  return token;
}
