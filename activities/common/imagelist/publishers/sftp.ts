// Publishing over SFTP, as vmcaster's `sftp` protocol does: a signed list (or an image file) is
// written to a temporary name next to its target and renamed over it, so a subscriber fetching
// the list over HTTP never reads half a file.
import { randomBytes } from 'node:crypto';
import { posix } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import ssh2, { type SFTPWrapper } from 'ssh2';
import { fingerprintOf } from '../../image-tests/ssh-session.js';

const { Client } = ssh2;
type Client = InstanceType<typeof Client>;

export interface SftpCredentials {
  /** PEM/OpenSSH private key of the publishing user. */
  privateKey: string;
  /**
   * The server's host key fingerprint (`SHA256:…`, as `ssh-keygen -lf` prints it). Required:
   * a list published to an impostor is a list subscribers can be served from anywhere.
   */
  hostKeyFingerprint: string;
  timeoutMs?: number;
}

export interface SftpLocation {
  host: string;
  port: number;
  user: string;
  /** Absolute path of the file on the server. */
  path: string;
}

/** `sftp://user@host[:port]/absolute/path`: what a publish mapping's uri_replace gives. */
export function parseSftpUri(uri: string): SftpLocation {
  let url: URL;
  try {
    url = new URL(uri);
  } catch {
    throw new Error(`sftp target "${uri}" is not a URL: expected sftp://user@host[:port]/path`);
  }
  if (url.protocol !== 'sftp:')
    throw new Error(`sftp target "${uri}": expected the sftp:// scheme, got ${url.protocol}//`);
  if (!url.username)
    throw new Error(`sftp target "${uri}" names no user: expected sftp://user@host[:port]/path`);
  const path = decodeURIComponent(url.pathname);
  if (path === '/' || path.endsWith('/'))
    throw new Error(`sftp target "${uri}" names a directory, not a file`);
  return {
    host: url.hostname,
    port: url.port ? Number(url.port) : 22,
    user: decodeURIComponent(url.username),
    path,
  };
}

/** Writes `body` to `uri` over SFTP: directories made as needed, then an atomic rename over the target. */
export async function sftpPut(
  uri: string,
  body: Buffer | Readable,
  credentials: SftpCredentials,
): Promise<void> {
  const where = parseSftpUri(uri);
  const client = await connect(where, credentials);
  try {
    const sftp = await new Promise<SFTPWrapper>((resolve, reject) =>
      client.sftp((e, s) => (e ? reject(e) : resolve(s))),
    );
    await makeDirectories(sftp, posix.dirname(where.path));
    const temporary = `${where.path}.imagecast-${randomBytes(6).toString('hex')}`;
    try {
      await pipeline(
        Buffer.isBuffer(body) ? Readable.from([body]) : body,
        sftp.createWriteStream(temporary, { mode: 0o644 }),
      );
      await replace(sftp, temporary, where.path);
    } catch (error) {
      await call<void>((cb) => sftp.unlink(temporary, cb)).catch(() => undefined);
      throw new Error(
        `sftp ${where.user}@${where.host}:${where.port} could not write ${where.path}: ${(error as Error).message}`,
      );
    }
  } finally {
    client.end();
  }
}

function connect(where: SftpLocation, credentials: SftpCredentials): Promise<Client> {
  if (!/^SHA256:[A-Za-z0-9+/]{43}$/.test(credentials.hostKeyFingerprint))
    throw new Error(
      `sftp ${where.host}: host_key_fingerprint must be "SHA256:" and 43 base64 characters (ssh-keygen -lf the server's host key), got "${credentials.hostKeyFingerprint}"`,
    );
  return new Promise((resolve, reject) => {
    const client = new Client();
    let seen = '';
    let settled = false;
    client.once('ready', () => {
      settled = true;
      resolve(client);
    });
    client.on('error', (error) => {
      client.end();
      if (settled) return;
      settled = true;
      const mismatch = seen && seen !== credentials.hostKeyFingerprint;
      reject(
        new Error(
          mismatch
            ? `sftp ${where.host}:${where.port} showed host key ${seen}, not the configured ${credentials.hostKeyFingerprint}: refusing to publish there`
            : `sftp ${where.user}@${where.host}:${where.port}: ${error.message}`,
        ),
      );
    });
    client.connect({
      host: where.host,
      port: where.port,
      username: where.user,
      privateKey: credentials.privateKey,
      readyTimeout: credentials.timeoutMs ?? 15_000,
      hostVerifier: (key: Buffer) => {
        seen = fingerprintOf(key);
        return seen === credentials.hostKeyFingerprint;
      },
    });
  });
}

/** `mkdir -p`: each missing directory from the root down. */
async function makeDirectories(sftp: SFTPWrapper, dir: string): Promise<void> {
  const parts = dir.split('/').filter(Boolean);
  let path = '';
  for (const part of parts) {
    path += `/${part}`;
    const exists = await call((cb) => sftp.stat(path, cb)).then(
      () => true,
      () => false,
    );
    if (!exists)
      await call<void>((cb) => sftp.mkdir(path, cb)).catch(async (error: Error) => {
        // Another publisher made it meanwhile: fine.
        if (
          !(await call((cb) => sftp.stat(path, cb)).then(
            () => true,
            () => false,
          ))
        )
          throw error;
      });
  }
}

/**
 * OpenSSH's posix-rename replaces the target in one step; plain SFTP rename refuses an
 * existing target, so without the extension the old file is removed first (a short window
 * without a list, never a half-written one).
 */
async function replace(sftp: SFTPWrapper, from: string, to: string): Promise<void> {
  try {
    await call<void>((cb) => sftp.ext_openssh_rename(from, to, cb));
    return;
  } catch {
    await call<void>((cb) => sftp.unlink(to, cb)).catch(() => undefined);
    await call<void>((cb) => sftp.rename(from, to, cb));
  }
}

function call<T = unknown>(
  run: (cb: (error: Error | null | undefined, value?: T) => void) => void,
): Promise<T> {
  return new Promise((resolve, reject) =>
    run((error, value) => (error ? reject(error) : resolve(value as T))),
  );
}
