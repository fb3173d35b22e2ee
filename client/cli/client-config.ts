import type { Command } from 'commander';
import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { ImagecastClient } from '../sdk/index.js';
import { temporalAccessFromEnv, type TemporalConfig } from '../../schemas/config.js';
import { payloadKeysFromEnv } from '../../infra/codec/payload-keys.js';

/** Options every command that talks to Temporal accepts (flags override the environment). */
export function addConnectionOptions(command: Command): Command {
  return command
    .option('--address <host:port>', 'Temporal frontend (env IMAGECAST_TEMPORAL_ADDRESS, config file, default 127.0.0.1:7233)')
    .option('--namespace <name>', 'Temporal namespace (env IMAGECAST_TEMPORAL_NAMESPACE, default "default")')
    .option('--queue-prefix <prefix>', 'task queue prefix (env IMAGECAST_QUEUE_PREFIX, default "imagecast-")');
}

export interface ConnectionFlags {
  address?: string;
  namespace?: string;
  queuePrefix?: string;
}

/**
 * The CLI's Temporal settings: the config file (IMAGECAST_CONFIG, else
 * ~/.config/imagecast/config.json when it exists), overridden by the environment, overridden by
 * flags. The file takes the SDK's connection settings: address, namespace, queuePrefix, tls
 * (true or {serverName, serverRootCaCertFile, clientCertFile, clientKeyFile}), apiKey or apiKeyFile.
 */
export function connectionSettings(flags: ConnectionFlags, env: NodeJS.ProcessEnv = process.env): Record<string, unknown> {
  // imagelist_publish is for `imagecast imagelist publish`, not the connection.
  const { imagelist_publish: _publish, ...file } = readConfigFile(env);
  const fromEnv = {
    ...(env.IMAGECAST_TEMPORAL_ADDRESS && { address: env.IMAGECAST_TEMPORAL_ADDRESS }),
    ...(env.IMAGECAST_TEMPORAL_NAMESPACE && { namespace: env.IMAGECAST_TEMPORAL_NAMESPACE }),
    ...(env.IMAGECAST_QUEUE_PREFIX !== undefined && { queuePrefix: env.IMAGECAST_QUEUE_PREFIX }),
    ...temporalAccessFromEnv(env),
  };
  return {
    ...file,
    ...fromEnv,
    ...(flags.address && { address: flags.address }),
    ...(flags.namespace && { namespace: flags.namespace }),
    ...(flags.queuePrefix !== undefined && { queuePrefix: flags.queuePrefix }),
  };
}

/** The config file: IMAGECAST_CONFIG, else ~/.config/imagecast/config.json (read only when it exists). */
export function configFilePath(env: NodeJS.ProcessEnv = process.env): { path: string; explicit: boolean } {
  const explicit = env.IMAGECAST_CONFIG;
  return { path: explicit || join(env.HOME ?? homedir(), '.config', 'imagecast', 'config.json'), explicit: Boolean(explicit) };
}

export function readConfigFile(env: NodeJS.ProcessEnv): Record<string, unknown> {
  const { path, explicit } = configFilePath(env);
  if (!explicit && !existsSync(path)) return {};
  let json: Record<string, unknown>;
  try {
    json = JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new Error(`config file ${path}: ${code ? `cannot read it (${code})` : 'not valid JSON'}`);
  }
  const { apiKeyFile, ...rest } = json;
  if (typeof apiKeyFile === 'string') rest.apiKey = readFileSync(apiKeyFile, 'utf8').trim();
  return rest;
}

/** Temporal did not answer at the address the CLI was given; says where that address came from. */
export class TemporalUnreachableError extends Error {
  override name = 'TemporalUnreachableError';
  constructor(
    readonly address: string,
    readonly addressFrom: string,
    cause: string,
  ) {
    super(
      `could not reach Temporal at ${address} (from ${addressFrom}; set it with --address, IMAGECAST_TEMPORAL_ADDRESS or "address" in the config file): ${cause}`,
    );
  }
}

/** Where the address came from, for error messages: the flag, the environment, the config file, or the default. */
export function addressSource(flags: ConnectionFlags, env: NodeJS.ProcessEnv = process.env): { address: string; from: string } {
  if (flags.address) return { address: flags.address, from: '--address' };
  if (env.IMAGECAST_TEMPORAL_ADDRESS) return { address: env.IMAGECAST_TEMPORAL_ADDRESS, from: 'IMAGECAST_TEMPORAL_ADDRESS' };
  const fromFile = readConfigFile(env).address;
  if (typeof fromFile === 'string') return { address: fromFile, from: 'the config file' };
  return { address: '127.0.0.1:7233', from: 'the default' };
}

export async function connect(flags: ConnectionFlags): Promise<ImagecastClient> {
  const env = process.env;
  const settings = connectionSettings(flags, env) as Partial<TemporalConfig>;
  const payloadKeys = payloadKeysFromEnv(env);
  try {
    // The workers' payload keys: job documents and results are encrypted in Temporal.
    return await ImagecastClient.connect({ ...settings, payloadKeys });
  } catch (error) {
    const { address, from } = addressSource(flags, env);
    const cause = error instanceof Error ? error.message : String(error);
    // A bad setting (not the network) is the config schema's error: keep it as it is.
    if (error instanceof Error && error.name === 'ZodError') throw error;
    throw new TemporalUnreachableError(address, from, cause);
  }
}

/** Link to a release in the Web UI, when we know where the UI is (env IMAGECAST_UI_URL). */
export function webUiLink(releaseId: string, namespace = 'default'): string | undefined {
  const base = process.env.IMAGECAST_UI_URL;
  return base ? `${base.replace(/\/$/, '')}/namespaces/${namespace}/workflows/${encodeURIComponent(releaseId)}` : undefined;
}
