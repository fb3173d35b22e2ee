import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';

/** A long-running helper process (server) whose output goes to a log file. */
export interface ManagedProcess {
  readonly child: ChildProcess;
  readonly logFile: string;
  /** Resolves once the process has exited (any reason). */
  readonly exited: Promise<number | null>;
  stop(signal?: NodeJS.Signals, graceMs?: number): Promise<void>;
}

export function startManagedProcess(
  command: string,
  args: string[],
  logFile: string,
  options: SpawnOptions & { keepsParentAlive?: boolean } = {},
): ManagedProcess {
  // The child writes straight to the log file: no pipe keeps our event loop busy.
  const logFd = openSync(logFile, 'a');
  const { keepsParentAlive = true, ...spawnOptions } = options;
  const child = spawn(command, args, { ...spawnOptions, stdio: ['ignore', logFd, logFd] });
  closeSync(logFd);
  // A test file that started its own server must still be able to exit when its tests end.
  if (!keepsParentAlive) child.unref();
  const exited = new Promise<number | null>((resolve) => {
    child.on('exit', (code) => resolve(code));
    child.on('error', () => resolve(null));
  });
  // A server left behind would hold its port and data dir: stop it with us.
  const killOnExit = () => child.kill('SIGKILL');
  process.once('exit', killOnExit);

  return {
    child,
    logFile,
    exited,
    async stop(signal = 'SIGTERM', graceMs = 10_000) {
      process.removeListener('exit', killOnExit);
      if (child.exitCode !== null || child.signalCode !== null) return;
      // An unref'd child (keepsParentAlive: false) must hold the event loop while we wait for
      // its exit: else, once the SIGKILL timer has run, node ends with this promise pending.
      child.ref();
      child.kill(signal);
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** Polls `probe` until it resolves true, the process dies, or the deadline passes. */
export async function waitUntilReady(
  name: string,
  proc: ManagedProcess,
  probe: () => Promise<boolean>,
  timeoutMs: number,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let died = false;
  void proc.exited.then(() => (died = true));
  while (Date.now() < deadline) {
    if (died) throw new Error(`${name} exited while starting; see ${proc.logFile}`);
    if (await probe().catch(() => false)) return;
    await new Promise((r) => setTimeout(r, 250));
  }
  await proc.stop('SIGKILL');
  throw new Error(`${name} did not become ready within ${timeoutMs / 1000}s; see ${proc.logFile}`);
}
