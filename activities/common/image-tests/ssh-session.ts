import { createHash } from 'node:crypto';
import ssh2, { type ConnectConfig } from 'ssh2';

const { Client } = ssh2;
type Client = InstanceType<typeof Client>;

/** Where a test instance's SSH is and how to log in. */
export interface SshTarget {
  host: string;
  port: number;
  user: string;
  privateKey: string;
  /**
   * The host key fingerprint (`SHA256:…`, as ssh-keygen -lf prints it) the server must show:
   * from the cloud's console output, or pinned at the first connection. Unset: trust on first
   * use (the fingerprint seen is returned so later connections pin it).
   */
  hostKeyFingerprint?: string;
}

export interface CommandResult {
  exitCode: number | null;
  stdout: string;
  stderr: string;
  durationMs: number;
  timedOut: boolean;
}

export class HostKeyMismatch extends Error {
  override name = 'HostKeyMismatch';
}

/** One SSH connection to a test instance. */
export interface SshSession {
  /** The server's host key fingerprint this connection saw. */
  readonly hostKeyFingerprint: string;
  exec(command: string, options: { timeoutMs: number }): Promise<CommandResult>;
  close(): void;
}

export function fingerprintOf(hostKey: Buffer): string {
  return `SHA256:${createHash('sha256').update(hostKey).digest('base64').replace(/=+$/, '')}`;
}

/**
 * Connects with the ephemeral key. A host key other than the pinned one is refused before
 * authentication (no command runs on an impostor).
 */
export function openSshSession(target: SshTarget, timeoutMs = 15_000): Promise<SshSession> {
  return new Promise((resolve, reject) => {
    const client = new Client();
    let seen = '';
    const config: ConnectConfig = {
      host: target.host,
      port: target.port,
      username: target.user,
      privateKey: target.privateKey,
      readyTimeout: timeoutMs,
      keepaliveInterval: 5_000,
      hostVerifier: (key: Buffer) => {
        seen = fingerprintOf(key);
        return target.hostKeyFingerprint === undefined || target.hostKeyFingerprint === seen;
      },
    };
    let settled = false;
    client.once('ready', () => {
      settled = true;
      resolve(session(client, seen));
    });
    // ssh2 may emit several errors (a handshake cut short, then the socket): every one is
    // handled, the first before `ready` rejects; later ones end the session's commands.
    client.on('error', (error) => {
      client.end();
      if (settled) return;
      settled = true;
      if (seen && target.hostKeyFingerprint && seen !== target.hostKeyFingerprint) {
        reject(new HostKeyMismatch(`${target.host}:${target.port} showed host key ${seen}, not the expected ${target.hostKeyFingerprint}: refusing to log in`));
      } else reject(error);
    });
    client.connect(config);
  });
}

function session(client: Client, hostKeyFingerprint: string): SshSession {
  return {
    hostKeyFingerprint,
    exec(command, { timeoutMs }) {
      const started = Date.now();
      return new Promise((resolve, reject) => {
        client.exec(command, (error, stream) => {
          if (error) return reject(error);
          let stdout = '';
          let stderr = '';
          let settled = false;
          const finish = (exitCode: number | null, timedOut: boolean) => {
            if (settled) return;
            settled = true;
            clearTimeout(timer);
            resolve({ exitCode, stdout, stderr, durationMs: Date.now() - started, timedOut });
          };
          // OpenSSH ignores channel signals: at the timeout the answer is given at once and the
          // channel closed; a command still running stays until the instance is deleted.
          const timer = setTimeout(() => {
            finish(null, true);
            stream.close();
          }, timeoutMs);
          stream.on('data', (d: Buffer) => (stdout += d.toString('utf8')));
          stream.stderr.on('data', (d: Buffer) => (stderr += d.toString('utf8')));
          // The exit status may arrive before the last output: answer when the channel closes.
          let exitCode: number | null = null;
          stream.on('exit', (code: number | null) => (exitCode = code));
          stream.on('close', () => finish(exitCode, false));
        });
      });
    },
    close: () => client.end(),
  };
}

/**
 * Waits until SSH answers and the key is accepted (an instance booting, a host rebooting),
 * trying every `intervalMs` until `deadline`; `onWait` is called between tries (heartbeats).
 */
export async function waitForSsh(
  target: SshTarget,
  deadline: number,
  options: {
    intervalMs?: number;
    onWait?: (lastError: string) => void;
    /** Why the instance is gone (stopped, crashed), or undefined while it runs: no point waiting for a dead one. */
    instanceGone?: () => Promise<string | undefined>;
  } = {},
): Promise<SshSession> {
  let last = 'not tried';
  let lastAsked = 0;
  for (;;) {
    try {
      return await openSshSession(target, Math.max(1_000, Math.min(15_000, deadline - Date.now())));
    } catch (error) {
      if (error instanceof HostKeyMismatch) throw error;
      last = (error as Error).message;
    }
    // Asked at most every 5 s (a cloud API call); not knowing (a throttled call) is not "gone".
    let gone: string | undefined;
    if (options.instanceGone && Date.now() - lastAsked >= 5_000) {
      lastAsked = Date.now();
      gone = await options.instanceGone().catch(() => undefined);
    }
    if (gone) throw new Error(`the instance is gone while waiting for SSH on ${target.host}:${target.port}: ${gone}`);
    if (Date.now() >= deadline) throw new Error(`SSH on ${target.host}:${target.port} did not come up in time (last: ${last})`);
    options.onWait?.(last);
    await new Promise((r) => setTimeout(r, options.intervalMs ?? 1_000));
  }
}
