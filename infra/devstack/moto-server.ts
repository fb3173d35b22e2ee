import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startManagedProcess, waitUntilReady } from './child-process.js';
import { freePort } from './free-port.js';

/**
 * Where infra/install.sh puts moto (`pip install --target`): beside dist/ in the project root,
 * or under the working directory when this file was compiled elsewhere (a private outDir).
 */
export const MOTO_DIR = findMotoDir(
  fileURLToPath(new URL('../../../.tools/moto', import.meta.url)),
  resolve('.tools/moto'),
);

export function motoInstalled(): boolean {
  return hasMoto(MOTO_DIR);
}

function hasMoto(dir: string): boolean {
  return existsSync(join(dir, 'moto', 'server.py'));
}

function findMotoDir(projectDir: string, cwdDir: string): string {
  return hasMoto(projectDir) || !hasMoto(cwdDir) ? projectDir : cwdDir;
}

export interface MotoServer {
  endpoint: string;
  port: number;
  logFile: string;
  stop(): Promise<void>;
}

/**
 * Starts moto's server (every AWS service on one port, state in memory) on a free loopback
 * port. moto answers any credentials and routes regions by the request's SigV4 scope.
 */
export async function startMotoServer(options: { logFile?: string } = {}): Promise<MotoServer> {
  if (!motoInstalled()) throw new Error(`moto is not installed in ${MOTO_DIR}: run "npm run setup" first`);
  const port = await freePort();
  const logFile = options.logFile ?? join(mkdtempSync(join(tmpdir(), 'imagecast-moto-')), 'moto.log');
  // Run through python3 with PYTHONPATH: the installed script's shebang names pip's python.
  const proc = startManagedProcess(
    'python3',
    [
      '-c',
      'import sys; from moto.server import main; sys.exit(main())',
      '-H',
      '127.0.0.1',
      '-p',
      String(port),
    ],
    logFile,
    { env: { ...process.env, PYTHONPATH: MOTO_DIR, PYTHONDONTWRITEBYTECODE: '1' }, keepsParentAlive: false },
  );
  const endpoint = `http://127.0.0.1:${port}`;
  await waitUntilReady('moto', proc, () => answers(`${endpoint}/moto-api/`), 60_000);
  return { endpoint, port, logFile, stop: () => proc.stop('SIGTERM', 5_000) };
}

async function answers(url: string): Promise<boolean> {
  const response = await fetch(url);
  await response.body?.cancel();
  return response.ok;
}
