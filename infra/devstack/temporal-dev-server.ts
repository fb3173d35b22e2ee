import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Connection } from '@temporalio/client';
import { freePort } from './free-port.js';
import { startManagedProcess, waitUntilReady } from './child-process.js';
import { SEARCH_ATTRIBUTE_TYPES } from '../../schemas/search-attributes.js';

export interface TemporalDevServer {
  address: string;
  namespace: string;
  uiUrl: string | undefined;
  logFile: string;
  stop(): Promise<void>;
}

export interface TemporalDevServerOptions {
  /** Where the SQLite file and the log go. */
  stateDir: string;
  /** Keep workflow state across restarts (the demo); tests use an in-memory store. */
  persist?: boolean;
  headless?: boolean;
  /** The Web UI decodes payloads through this codec server. */
  codecEndpoint?: string;
  /** The Web UI's port when the caller must know it first (the codec server's CORS origin); else a free one. */
  uiPort?: number;
  /** The frontend's port, e.g. to restart a persisted server where its clients expect it; else a free one. */
  port?: number;
  projectRoot?: string;
  /** False when the server should die with (not hold open) a test process. */
  keepsParentAlive?: boolean;
}

export function temporalBinary(projectRoot = process.cwd()): string {
  const path = resolve(projectRoot, '.tools/temporal/bin/temporal');
  if (!existsSync(path)) throw new Error(`Temporal CLI not found at ${path}: run "npm run setup" first`);
  return path;
}

/** Starts `temporal server start-dev` on free loopback ports with our search attributes registered. */
export async function startTemporalDevServer(options: TemporalDevServerOptions): Promise<TemporalDevServer> {
  const port = options.port ?? (await freePort());
  const uiPort = options.headless ? undefined : (options.uiPort ?? (await freePort()));
  const args = ['server', 'start-dev', '--ip', '127.0.0.1', '--port', String(port), '--log-level', 'warn'];
  if (options.persist) args.push('--db-filename', join(options.stateDir, 'temporal.sqlite'));
  if (uiPort === undefined) args.push('--headless');
  else args.push('--ui-port', String(uiPort), '--ui-ip', '127.0.0.1');
  args.push('--ui-disable-news-fetch');
  if (options.codecEndpoint) args.push('--ui-codec-endpoint', options.codecEndpoint);
  for (const [name, type] of Object.entries(SEARCH_ATTRIBUTE_TYPES)) args.push('--search-attribute', `${name}=${type}`);

  const address = `127.0.0.1:${port}`;
  const proc = startManagedProcess(temporalBinary(options.projectRoot), args, join(options.stateDir, 'temporal.log'), {
    keepsParentAlive: options.keepsParentAlive ?? true,
  });
  await waitUntilReady('Temporal dev server', proc, () => isServing(address), 60_000);
  return {
    address,
    namespace: 'default',
    uiUrl: uiPort === undefined ? undefined : `http://127.0.0.1:${uiPort}`,
    logFile: proc.logFile,
    stop: () => proc.stop('SIGTERM'),
  };
}

async function isServing(address: string): Promise<boolean> {
  const connection = await Connection.connect({ address, connectTimeout: 1_000 });
  try {
    const response = await connection.healthService.check({});
    return response.status === 1; // SERVING
  } finally {
    await connection.close();
  }
}
