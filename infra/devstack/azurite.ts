import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startManagedProcess, waitUntilReady } from './child-process.js';
import { freePort } from './free-port.js';

/**
 * Azurite's one built-in account and its key: public, documented by Microsoft for the
 * emulator ("Authorize with Shared Key credentials"), never valid on Azure itself.
 */
export const AZURITE_ACCOUNT = 'devstoreaccount1';
export const AZURITE_ACCOUNT_KEY =
  'Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==';

/** The npm devDependency's blob-only server (azurite 3.35.0: the last release for Node 20). */
const AZURITE_BLOB_BIN = resolve(
  fileURLToPath(new URL('../../../node_modules/.bin/azurite-blob', import.meta.url)),
);

export interface Azurite {
  /** `http://127.0.0.1:PORT/devstoreaccount1`: what `new BlobServiceClient(url, credential)` takes. */
  blobEndpoint: string;
  /** `http://127.0.0.1:PORT`: every account's endpoint is this plus `/<account>`. */
  root: string;
  accountName: string;
  accountKey: string;
  /** The same as a connection string (`BlobServiceClient.fromConnectionString`). */
  connectionString: string;
  logFile: string;
  stop(): Promise<void>;
}

/**
 * Starts Azurite's Blob service on a free loopback port, its data in a temp dir that stop()
 * removes. `--skipApiVersionCheck`: the SDK speaks a newer service version than 3.35.0 knows
 * and would be refused. `--disableTelemetry`: it would otherwise phone home. `--loose`:
 * ignore headers it does not implement rather than fail the request.
 */
export async function startAzurite(options: { logFile?: string; accounts?: string[] } = {}): Promise<Azurite> {
  const port = await freePort();
  const location = mkdtempSync(join(tmpdir(), 'imagecast-azurite-'));
  const logFile = options.logFile ?? join(location, 'azurite.log');
  const proc = startManagedProcess(
    AZURITE_BLOB_BIN,
    [
      '--blobHost',
      '127.0.0.1',
      '--blobPort',
      String(port),
      '--location',
      location,
      '--skipApiVersionCheck',
      '--disableTelemetry',
      '--loose',
      '--silent',
    ],
    logFile,
    {
      keepsParentAlive: false,
      // More storage accounts (a job's source_storage_account), all with the emulator's public key.
      ...(options.accounts?.length && {
        env: {
          ...process.env,
          AZURITE_ACCOUNTS: [AZURITE_ACCOUNT, ...options.accounts].map((a) => `${a}:${AZURITE_ACCOUNT_KEY}`).join(';'),
        },
      }),
    },
  );
  const blobEndpoint = `http://127.0.0.1:${port}/${AZURITE_ACCOUNT}`;
  try {
    await waitUntilReady('azurite', proc, () => answers(blobEndpoint), 30_000);
  } catch (error) {
    rmSync(location, { recursive: true, force: true });
    throw error;
  }
  return {
    blobEndpoint,
    root: `http://127.0.0.1:${port}`,
    accountName: AZURITE_ACCOUNT,
    accountKey: AZURITE_ACCOUNT_KEY,
    connectionString:
      `DefaultEndpointsProtocol=http;AccountName=${AZURITE_ACCOUNT};AccountKey=${AZURITE_ACCOUNT_KEY};` +
      `BlobEndpoint=${blobEndpoint};`,
    logFile,
    async stop() {
      await proc.stop('SIGTERM', 5_000);
      rmSync(location, { recursive: true, force: true });
    },
  };
}

/** Any HTTP answer means it listens: unsigned requests get 403 (or 400), not a refused connection. */
async function answers(url: string): Promise<boolean> {
  const response = await fetch(`${url}?comp=list`);
  await response.body?.cancel();
  return response.status > 0;
}
