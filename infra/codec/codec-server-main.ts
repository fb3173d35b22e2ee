#!/usr/bin/env node
// `imagecast-codec-server`: decrypts payloads for the Temporal Web UI and CLI with the same
// keys the workers use. Prints its URL on stdout; SIGTERM/SIGINT stop it.
import { Command, InvalidArgumentError } from 'commander';
import { AesGcmPayloadCodec } from './aes-gcm-codec.js';
import { startCodecServer } from './codec-server.js';
import {
  ENV_PAYLOAD_KEY,
  ENV_PAYLOAD_KEYS_FILE,
  payloadKeysFromEnv,
  type PayloadKeys,
} from './payload-keys.js';

const ENV_CODEC_AUTH_TOKEN = 'IMAGECAST_CODEC_AUTH_TOKEN';

function portNumber(value: string): number {
  const port = Number(value);
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    throw new InvalidArgumentError('not a port number');
  return port;
}

const program = new Command('imagecast-codec-server')
  .description('Serve POST /encode and /decode of imagecast payloads for the Temporal Web UI and CLI')
  .option('--port <port>', 'port to listen on (default: a free one)', portNumber)
  .option('--host <host>', 'address to listen on', '127.0.0.1')
  .option(
    '--cors-origin <origin>',
    'browser origin allowed to call the server, e.g. http://localhost:8233 (repeatable)',
    (origin: string, all: string[]) => [...all, origin],
    [] as string[],
  )
  .addHelpText(
    'after',
    `
Environment: ${ENV_PAYLOAD_KEY} or ${ENV_PAYLOAD_KEYS_FILE} (required; the workers' payload keys),
${ENV_CODEC_AUTH_TOKEN} (when set, requests need "Authorization: Bearer <token>").

Example:
  ${ENV_PAYLOAD_KEYS_FILE}=/etc/imagecast/payload-keys.json \\
    imagecast-codec-server --port 8888 --cors-origin http://localhost:8233
  temporal workflow show --workflow-id <id> --codec-endpoint http://127.0.0.1:8888`,
  )
  .parse();

const flags = program.opts<{ port?: number; host: string; corsOrigin: string[] }>();

let keys: PayloadKeys | undefined;
try {
  keys = payloadKeysFromEnv(process.env);
} catch (error) {
  console.error(`codec server: ${(error as Error).message}`);
  process.exit(2);
}
if (!keys) {
  console.error(`codec server: no payload keys: set ${ENV_PAYLOAD_KEY} or ${ENV_PAYLOAD_KEYS_FILE}`);
  process.exit(2);
}

const authToken = process.env[ENV_CODEC_AUTH_TOKEN] || undefined;
const server = await startCodecServer({
  codec: new AesGcmPayloadCodec(keys),
  host: flags.host,
  corsOrigins: flags.corsOrigin,
  ...(flags.port !== undefined && { port: flags.port }),
  ...(authToken && { authToken }),
});
console.log(server.url);
if (!authToken)
  console.error(`codec server: ${ENV_CODEC_AUTH_TOKEN} is not set, requests are not authenticated`);

for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.once(signal, () => {
    server.stop().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  });
}
