import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { createConnection } from 'node:net';
import { join } from 'node:path';
import { userInfo } from 'node:os';
import { startManagedProcess, type ManagedProcess } from './child-process.js';
import { freePort } from './free-port.js';

export const SSHD = '/usr/sbin/sshd';

export interface Sshd {
  host: string;
  port: number;
  user: string;
  /** `SHA256:…` of the generated host key. */
  hostKeyFingerprint: string;
  /** A command that "reboots" this sshd: it stops, and comes back a second later. */
  rebootCommand: string;
  /** How often it has come back. */
  restarts(): number;
  stop(): Promise<void>;
}

/**
 * A real OpenSSH server (Debian openssh-server) on a free loopback port, non-daemon, with a
 * host key generated for it and `authorizedKey` allowed to log in as the current user. When
 * its process ends (the reboot command kills it), it is started again after `downMs`, the
 * way an instance's sshd is back after a reboot.
 */
export async function startSshd(dir: string, authorizedKey: string, downMs = 1_000): Promise<Sshd> {
  if (!existsSync(SSHD)) throw new Error(`${SSHD} not found: install Debian's openssh-server (npm run setup does)`);
  mkdirSync('/run/sshd', { recursive: true }); // sshd's privilege separation directory
  const hostKey = join(dir, 'host_ed25519');
  if (!existsSync(hostKey)) execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', hostKey]);
  const hostKeyFingerprint = execFileSync('ssh-keygen', ['-l', '-f', `${hostKey}.pub`], { encoding: 'utf8' }).split(' ')[1]!;
  const authorized = join(dir, 'authorized_keys');
  writeFileSync(authorized, `${authorizedKey}\n`);
  chmodSync(authorized, 0o600);
  const port = await freePort();
  const pidFile = join(dir, 'sshd.pid');
  const config = join(dir, 'sshd_config');
  writeFileSync(
    config,
    [
      `Port ${port}`,
      'ListenAddress 127.0.0.1',
      `HostKey ${hostKey}`,
      `AuthorizedKeysFile ${authorized}`,
      `PidFile ${pidFile}`,
      'PasswordAuthentication no',
      'KbdInteractiveAuthentication no',
      'PubkeyAuthentication yes',
      'PermitRootLogin prohibit-password',
      'UsePAM no',
      'StrictModes no',
      // In-process SFTP (no sftp-server binary needed): image lists are published over it.
      'Subsystem sftp internal-sftp',
      '',
    ].join('\n'),
  );
  let process_: ManagedProcess | undefined;
  let stopping = false;
  let restarts = 0;
  const start = () => {
    process_ = startManagedProcess(SSHD, ['-D', '-e', '-f', config], join(dir, 'sshd.log'), { keepsParentAlive: false });
    void process_.exited.then(() => {
      if (stopping) return;
      setTimeout(() => {
        if (stopping) return;
        restarts++;
        start();
      }, downMs);
    });
  };
  start();
  await waitForPort(port, 10_000);
  return {
    host: '127.0.0.1',
    port,
    user: userInfo().username,
    hostKeyFingerprint,
    rebootCommand: `kill $(cat ${pidFile})`,
    restarts: () => restarts,
    async stop() {
      stopping = true;
      await process_?.stop('SIGTERM');
    },
  };
}

async function waitForPort(port: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const open = await new Promise<boolean>((resolve) => {
      const socket = createConnection({ host: '127.0.0.1', port }, () => {
        socket.end();
        resolve(true);
      });
      socket.on('error', () => resolve(false));
    });
    if (open) return;
    if (Date.now() > deadline) throw new Error(`sshd did not listen on ${port} within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
