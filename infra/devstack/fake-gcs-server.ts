import { existsSync, mkdtempSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { startManagedProcess, waitUntilReady } from './child-process.js';
import { freePort } from './free-port.js';

/** Pinned with the install step in infra/install.sh, which builds it into this cache dir. */
export const FAKE_GCS_SERVER_VERSION = 'v1.55.1';
export const FAKE_GCS_SERVER_BIN = join(
  process.env.IMAGECAST_TOOLS_CACHE ?? join(homedir(), '.cache', 'imagecast', 'tools'),
  `fake-gcs-server-${FAKE_GCS_SERVER_VERSION}`,
  'fake-gcs-server',
);

export function fakeGcsServerInstalled(): boolean {
  return existsSync(FAKE_GCS_SERVER_BIN);
}

export interface FakeGcsServer {
  /** JSON API root (`http://127.0.0.1:PORT`), what `new Storage({ apiEndpoint })` takes. */
  endpoint: string;
  port: number;
  logFile: string;
  stop(): Promise<void>;
}

/**
 * Starts fake-gcs-server (the Cloud Storage JSON API, objects in memory) on a free loopback
 * port, plain HTTP. Its resumable-upload status query is wrong (see gcs-resume-shim.ts):
 * tests that resume an upload talk to it through that shim.
 */
export async function startFakeGcsServer(options: { logFile?: string } = {}): Promise<FakeGcsServer> {
  if (!fakeGcsServerInstalled()) {
    throw new Error(`fake-gcs-server is not installed at ${FAKE_GCS_SERVER_BIN}: run "npm run setup" first`);
  }
  const port = await freePort();
  const logFile = options.logFile ?? join(mkdtempSync(join(tmpdir(), 'imagecast-fake-gcs-')), 'fake-gcs.log');
  const proc = startManagedProcess(
    FAKE_GCS_SERVER_BIN,
    ['-scheme', 'http', '-host', '127.0.0.1', '-port', String(port), '-backend', 'memory', '-log-level', 'warn'],
    logFile,
    { keepsParentAlive: false },
  );
  const endpoint = `http://127.0.0.1:${port}`;
  await waitUntilReady('fake-gcs-server', proc, () => answers(`${endpoint}/_internal/healthcheck`), 30_000);
  return { endpoint, port, logFile, stop: () => proc.stop('SIGTERM', 5_000) };
}

async function answers(url: string): Promise<boolean> {
  const response = await fetch(url);
  await response.body?.cancel();
  return response.ok;
}
