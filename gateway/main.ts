#!/usr/bin/env node
// imagecast-gateway: the HTTP(S) door CI starts releases through with scoped tokens (see docs/security.md).
import { Command } from 'commander';
import pino from 'pino';
import { temporalAccessFromEnv, temporalConfigSchema } from '../schemas/config.js';
import { createPool } from '../infra/db/pool.js';
import { migrate } from '../infra/db/migrate.js';
import { payloadKeysFromEnv } from '../infra/codec/payload-keys.js';
import { ImagecastClient } from '../client/sdk/index.js';
import { startReleaseGateway } from './release-gateway.js';
import { LISTEN_ENV, listenConfig, type ListenConfig, type ListenFlags } from './listen-config.js';

const log = pino({ name: 'imagecast-gateway' });
const flags = new Command('imagecast-gateway')
  .description(
    'Serve POST /v1/releases and GET /v1/releases/ID for CI, authorized by scoped tokens, and the public image catalog (GET /catalog, /catalog.json) and published signed image lists (GET /imagelists/UUID) to anyone',
  )
  .option('--host <address>', 'address to listen on', '127.0.0.1')
  .option('--port <port>', 'port to listen on (env IMAGECAST_GATEWAY_PORT)', process.env.IMAGECAST_GATEWAY_PORT ?? '8233')
  .option('--tls-cert <file>', `serve HTTPS with this PEM certificate (chain first) (env ${LISTEN_ENV.tlsCert})`)
  .option('--tls-key <file>', `the certificate's PEM private key (env ${LISTEN_ENV.tlsKey})`)
  .option(
    '--trust-proxy <list>',
    `believe X-Forwarded-For only from these peers: loopback, addresses, CIDR blocks, comma-separated (env ${LISTEN_ENV.trustProxy}); default none`,
  )
  .addHelpText(
    'after',
    `
Environment: IMAGECAST_DATABASE_URL (tokens, audit log, catalog), IMAGECAST_TEMPORAL_ADDRESS, IMAGECAST_TEMPORAL_NAMESPACE,
IMAGECAST_QUEUE_PREFIX, IMAGECAST_PAYLOAD_KEY or IMAGECAST_PAYLOAD_KEYS_FILE (the workers' payload keys),
IMAGECAST_TEMPORAL_TLS, IMAGECAST_TEMPORAL_TLS_CA, _TLS_CERT, _TLS_KEY, _TLS_SERVER_NAME, IMAGECAST_TEMPORAL_API_KEY
(Temporal Cloud: as the workers take them).

Without --tls-cert/--tls-key it speaks plain HTTP: put it behind a TLS proxy then, and name
that proxy with --trust-proxy so tokens' --source-cidr and the audit log see the CI's address.

Examples:
  imagecast-gateway --host 0.0.0.0 --port 8233 --tls-cert gateway.crt --tls-key gateway.key
  curl -H "Authorization: Bearer $IMAGECAST_TOKEN" -d @job.json https://gateway:8233/v1/releases
  curl 'https://gateway:8233/catalog.json?q=sles&cloud=ec2&arch=x86_64'   # no token: public images only
  imagecast-gateway --trust-proxy loopback      # behind nginx/haproxy on the same host`,
  )
  .parse()
  .opts<{ host: string; port: string } & ListenFlags>();

const env = process.env;
const databaseUrl = env.IMAGECAST_DATABASE_URL;
if (!databaseUrl) {
  console.error('gateway config: IMAGECAST_DATABASE_URL: required');
  process.exit(2);
}
let payloadKeys;
let listen: ListenConfig;
try {
  payloadKeys = payloadKeysFromEnv(env);
  listen = listenConfig(flags, env);
} catch (error) {
  console.error(`gateway config: ${(error as Error).message}`);
  process.exit(2);
}
const temporal = temporalConfigSchema.parse({
  address: env.IMAGECAST_TEMPORAL_ADDRESS || undefined,
  namespace: env.IMAGECAST_TEMPORAL_NAMESPACE || undefined,
  queuePrefix: env.IMAGECAST_QUEUE_PREFIX ?? undefined,
  // TLS and API key, as the workers take them (Temporal Cloud).
  ...temporalAccessFromEnv(env),
});
const pool = createPool(databaseUrl, (error) => log.warn({ error: error.message }, 'idle database connection lost'));
await migrate(pool);
const client = await ImagecastClient.connect({ ...temporal, payloadKeys }).catch((error: Error) => {
  // e.g. "tls.clientCertFile: cannot read /etc/…: ENOENT"; never the API key.
  console.error(`gateway config: temporal: ${error.message}`);
  process.exit(2);
});
const gateway = await startReleaseGateway({ pool, client, host: flags.host, port: Number(flags.port), ...listen }).catch(
  (error: Error) => {
    // e.g. a certificate and key that do not belong together (OpenSSL: "key values mismatch").
    console.error(`gateway config: cannot listen on ${flags.host}:${flags.port}: ${error.message}`);
    process.exit(2);
  },
);
console.log(gateway.url);
log.info(
  { url: gateway.url, temporal: temporal.address, trustProxy: listen.trustedProxies.description },
  'gateway started',
);
await new Promise<void>((resolve) => {
  process.once('SIGTERM', resolve);
  process.once('SIGINT', resolve);
});
await gateway.stop();
await client.close();
await pool.end();
log.info('gateway stopped');
