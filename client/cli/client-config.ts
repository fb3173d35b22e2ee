import type { Command } from 'commander';
import { ImagecastClient } from '../sdk/index.js';
import { payloadKeysFromEnv } from '../../infra/codec/payload-keys.js';

/** Options every command that talks to Temporal accepts (flags override the environment). */
export function addConnectionOptions(command: Command): Command {
  return command
    .option('--address <host:port>', 'Temporal frontend (env IMAGECAST_TEMPORAL_ADDRESS, default 127.0.0.1:7233)')
    .option('--namespace <name>', 'Temporal namespace (env IMAGECAST_TEMPORAL_NAMESPACE, default "default")')
    .option('--queue-prefix <prefix>', 'task queue prefix (env IMAGECAST_QUEUE_PREFIX, default "imagecast-")');
}

export interface ConnectionFlags {
  address?: string;
  namespace?: string;
  queuePrefix?: string;
}

export function connect(flags: ConnectionFlags): Promise<ImagecastClient> {
  const env = process.env;
  return ImagecastClient.connect({
    address: flags.address ?? (env.IMAGECAST_TEMPORAL_ADDRESS || undefined),
    namespace: flags.namespace ?? (env.IMAGECAST_TEMPORAL_NAMESPACE || undefined),
    queuePrefix: flags.queuePrefix ?? env.IMAGECAST_QUEUE_PREFIX ?? undefined,
    // The workers' payload keys: job documents and results are encrypted in Temporal.
    payloadKeys: payloadKeysFromEnv(env),
  });
}

/** Link to a release in the Web UI, when we know where the UI is (env IMAGECAST_UI_URL). */
export function webUiLink(releaseId: string, namespace = 'default'): string | undefined {
  const base = process.env.IMAGECAST_UI_URL;
  return base ? `${base.replace(/\/$/, '')}/namespaces/${namespace}/workflows/${encodeURIComponent(releaseId)}` : undefined;
}
