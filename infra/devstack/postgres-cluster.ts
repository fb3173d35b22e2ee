import { chownSync, existsSync, mkdirSync, readdirSync } from 'node:fs';
import { execFileSync, type SpawnOptions } from 'node:child_process';
import { join } from 'node:path';
import pg from 'pg';
import { freePort } from './free-port.js';
import { startManagedProcess, waitUntilReady } from './child-process.js';

export interface PostgresCluster {
  /** Connection string of the cluster's `imagecast` superuser, database `postgres`. */
  adminUrl: string;
  port: number;
  logFile: string;
  stop(): Promise<void>;
}

const POSTGRES_BIN_DIRS = ['/usr/lib/postgresql'];

/** Finds Debian's versioned server binaries (initdb, postgres); they are not on PATH. */
export function postgresBinDir(): string {
  for (const root of POSTGRES_BIN_DIRS) {
    if (!existsSync(root)) continue;
    const versions = readdirSync(root)
      .filter((v) => existsSync(join(root, v, 'bin', 'initdb')))
      .sort((a, b) => Number(b) - Number(a));
    if (versions[0]) return join(root, versions[0], 'bin');
  }
  throw new Error('PostgreSQL server binaries not found under /usr/lib/postgresql: run "npm run setup" first');
}

/**
 * PostgreSQL refuses to run as root, so when we are root the cluster is owned by and run
 * as Debian's `postgres` user (created by the package).
 */
function runAsOptions(dataRoot: string): SpawnOptions {
  if (process.getuid?.() !== 0) return {};
  const uid = Number(execFileSync('id', ['-u', 'postgres']).toString().trim());
  const gid = Number(execFileSync('id', ['-g', 'postgres']).toString().trim());
  chownSync(dataRoot, uid, gid);
  return { uid, gid, env: { ...process.env, HOME: dataRoot } };
}

/** Starts a throw-away cluster (made with initdb on first use) on a free loopback port. */
export async function startPostgresCluster(dataRoot: string, keepsParentAlive = true): Promise<PostgresCluster> {
  mkdirSync(dataRoot, { recursive: true });
  const bin = postgresBinDir();
  const runAs = runAsOptions(dataRoot);
  const dataDir = join(dataRoot, 'data');
  if (!existsSync(join(dataDir, 'PG_VERSION'))) {
    execFileSync(
      join(bin, 'initdb'),
      ['-D', dataDir, '-U', 'imagecast', '--auth=trust', '--encoding=UTF8', '--no-sync'],
      { ...runAs, stdio: 'pipe' } as Parameters<typeof execFileSync>[2],
    );
  }
  const port = await freePort();
  const args = ['-D', dataDir, '-p', String(port), '-k', dataRoot, '-c', 'listen_addresses=127.0.0.1'];
  // A throw-away cluster: durability costs time and buys nothing.
  args.push('-c', 'fsync=off', '-c', 'synchronous_commit=off', '-c', 'full_page_writes=off');
  const proc = startManagedProcess(join(bin, 'postgres'), args, join(dataRoot, 'postgres.log'), {
    ...runAs,
    keepsParentAlive,
  });
  const adminUrl = `postgresql://imagecast@127.0.0.1:${port}/postgres`;
  await waitUntilReady('PostgreSQL', proc, () => canConnect(adminUrl), 30_000);
  // SIGINT is PostgreSQL's "fast shutdown": roll back sessions, then exit cleanly.
  return { adminUrl, port, logFile: proc.logFile, stop: () => proc.stop('SIGINT') };
}

async function canConnect(url: string): Promise<boolean> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 1_000 });
  await client.connect();
  await client.end();
  return true;
}

/** Creates a database in the cluster (idempotent) and returns its connection string. */
export async function ensureDatabase(adminUrl: string, name: string): Promise<string> {
  if (!/^[a-z_][a-z0-9_]*$/.test(name)) throw new Error(`invalid database name "${name}"`);
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    const found = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
    if (found.rowCount === 0) await client.query(`CREATE DATABASE ${name}`);
  } finally {
    await client.end();
  }
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return url.toString();
}
