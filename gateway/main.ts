#!/usr/bin/env node
// imagecast-gateway: the HTTP door CI starts releases through with scoped tokens (see docs/security.md).
import { Command } from 'commander';
import pino from 'pino';
import { temporalConfigSchema } from '../schemas/config.js';
import { createPool } from '../infra/db/pool.js';
import { migrate } from '../infra/db/migrate.js';
import { payloadKeysFromEnv } from '../infra/codec/payload-keys.js';
import { ImagecastClient } from '../client/sdk/index.js';
import { startReleaseGateway } from './release-gateway.js';

const log = pino({ name: 'imagecast-gateway' });
const flags = new Command('imagecast-gateway')
  .description('Serve POST /v1/releases and GET /v1/releases/ID for CI, authorized by scoped tokens')
  .option('--host <address>', 'address to listen on', '127.0.0.1')
  .option('--port <port>', 'port to listen on (env IMAGECAST_GATEWAY_PORT)', process.env.IMAGECAST_GATEWAY_PORT ?? '8233')
  .addHelpText(
    'after',
    `
Environment: IMAGECAST_DATABASE_URL (tokens, audit log), IMAGECAST_TEMPORAL_ADDRESS, IMAGECAST_TEMPORAL_NAMESPACE,
IMAGECAST_QUEUE_PREFIX, IMAGECAST_PAYLOAD_KEY or IMAGECAST_PAYLOAD_KEYS_FILE (the workers' payload keys).

Example:
  imagecast-gateway --host 0.0.0.0 --port 8233
  curl -H "Authorization: Bearer $IMAGECAST_TOKEN" -d @job.json http://gateway:8233/v1/releases`,
  )
  .parse()
  .opts<{ host: string; port: string }>();

const env = process.env;
const databaseUrl = env.IMAGECAST_DATABASE_URL;
if (!databaseUrl) {
  console.error('gateway config: IMAGECAST_DATABASE_URL: required');
  process.exit(2);
}
let payloadKeys;
try {
  payloadKeys = payloadKeysFromEnv(env);
} catch (error) {
  console.error(`gateway config: ${(error as Error).message}`);
  process.exit(2);
}
const temporal = temporalConfigSchema.parse({
  address: env.IMAGECAST_TEMPORAL_ADDRESS || undefined,
  namespace: env.IMAGECAST_TEMPORAL_NAMESPACE || undefined,
  queuePrefix: env.IMAGECAST_QUEUE_PREFIX ?? undefined,
});
const pool = createPool(databaseUrl, (error) => log.warn({ error: error.message }, 'idle database connection lost'));
await migrate(pool);
const client = await ImagecastClient.connect({ ...temporal, payloadKeys });
const gateway = await startReleaseGateway({ pool, client, host: flags.host, port: Number(flags.port) });
console.log(gateway.url);
log.info({ url: gateway.url, temporal: temporal.address }, 'gateway started');
await new Promise<void>((resolve) => {
  process.once('SIGTERM', resolve);
  process.once('SIGINT', resolve);
});
await gateway.stop();
await client.close();
await pool.end();
log.info('gateway stopped');
