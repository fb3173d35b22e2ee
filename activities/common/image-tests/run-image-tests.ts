import { NAMED_TESTS, type ImageTestSpec } from './image-test-catalog.js';
import { waitForSsh, type SshSession, type SshTarget } from './ssh-session.js';
import type { TestResult } from '../../../workflows/release-status.js';

/** One test's outcome; the release status carries the same shape. */
export type ImageTestResult = TestResult;

export interface RunImageTestsOptions {
  /** How long SSH may take to come up (boot, and reboots unless rebootWaitMs says otherwise). */
  sshWaitMs: number;
  /** How long SSH may take to come back after a reboot test; default sshWaitMs. */
  rebootWaitMs?: number;
  /** Per command, unless the test says otherwise. */
  commandTimeoutMs: number;
  /** What a soft reboot runs on the instance. */
  softRebootCommand?: string;
  /** A hard reboot is the cloud's (power cycle); without it test_hard_reboot fails saying so. */
  hardReboot?: () => Promise<void>;
  /** Compare /proc/sys/kernel/random/boot_id before and after a reboot (off for a bare sshd). */
  verifyBootId?: boolean;
  /** Why the instance is gone, or undefined while it runs (asked while waiting for SSH). */
  instanceGone?: () => Promise<string | undefined>;
  /** Called between waits and tests (activity heartbeats). */
  onProgress?: (what: string) => void;
}

const OUTPUT_LIMIT = 4096;

/**
 * Runs a job's tests on a booted instance over SSH, one after another, each with its own
 * result (a failing or timed-out test does not stop the others). The host key seen at the
 * first connection is pinned for every later one (after reboots too), unless the target
 * pins one already.
 */
export async function runImageTests(
  target: SshTarget,
  tests: ImageTestSpec[],
  options: RunImageTestsOptions,
): Promise<{ results: ImageTestResult[]; hostKeyFingerprint: string; sshReadyAt: number }> {
  const pinned: SshTarget = { ...target };
  const connect = async (waitMs = options.sshWaitMs) => {
    const session = await waitForSsh(pinned, Date.now() + waitMs, {
      onWait: (e) => options.onProgress?.(`waiting for SSH: ${e}`),
      ...(options.instanceGone && { instanceGone: options.instanceGone }),
    });
    pinned.hostKeyFingerprint ??= session.hostKeyFingerprint;
    return session;
  };
  let session: SshSession = await connect();
  const sshReadyAt = Date.now();
  const results: ImageTestResult[] = [];
  try {
    for (const test of tests) {
      options.onProgress?.(`running ${test.name}`);
      const started = Date.now();
      const named = NAMED_TESTS[test.name];
      if (named?.kind === 'reboot') {
        const reconnect = () => connect(options.rebootWaitMs ?? options.sshWaitMs);
        const outcome = await rebootAndReconnect(session, named.how, options, reconnect).then(
          (next) => ({ next, error: undefined }),
          (error: unknown) => ({ next: undefined, error: (error as Error).message }),
        );
        if (outcome.next) session = outcome.next;
        results.push({ name: test.name, passed: !outcome.error, durationMs: Date.now() - started, output: '', ...(outcome.error && { error: outcome.error }) });
        if (!outcome.next) break; // the instance did not come back: nothing else can run
        continue;
      }
      const command = test.command ?? (named?.kind === 'command' ? named.command : undefined);
      if (!command) {
        results.push({ name: test.name, passed: false, durationMs: 0, output: '', error: `unknown test "${test.name}"` });
        continue;
      }
      const timeoutMs = (test.timeoutSeconds ?? (named?.kind === 'command' ? named.timeoutSeconds : undefined) ?? options.commandTimeoutMs / 1000) * 1000;
      const ran = await session.exec(command, { timeoutMs });
      const output = (ran.stdout + ran.stderr).slice(-OUTPUT_LIMIT);
      const expectOutput = test.expectOutput ? new RegExp(test.expectOutput, 'm') : named?.kind === 'command' ? named.expectOutput : undefined;
      const error = ran.timedOut
        ? `timed out after ${timeoutMs / 1000} s`
        : ran.exitCode !== (test.expectExitCode ?? 0)
          ? `exit code ${ran.exitCode}, expected ${test.expectExitCode ?? 0}`
          : expectOutput && !expectOutput.test(ran.stdout)
            ? `output does not match ${expectOutput}`
            : undefined;
      results.push({ name: test.name, passed: !error, durationMs: ran.durationMs, output, ...(error && { error }) });
    }
  } finally {
    session.close();
  }
  return { results, hostKeyFingerprint: pinned.hostKeyFingerprint ?? session.hostKeyFingerprint, sshReadyAt };
}

async function rebootAndReconnect(
  session: SshSession,
  how: 'soft' | 'hard',
  options: RunImageTestsOptions,
  connect: () => Promise<SshSession>,
): Promise<SshSession> {
  const bootId = options.verifyBootId === false ? undefined : (await session.exec('cat /proc/sys/kernel/random/boot_id', { timeoutMs: 10_000 })).stdout.trim();
  if (how === 'hard') {
    if (!options.hardReboot) throw new Error('this cloud cannot power-cycle the instance');
    session.close();
    await options.hardReboot();
  } else {
    // The connection usually drops before the command answers: that is the reboot working.
    await session.exec(options.softRebootCommand ?? 'sudo systemctl reboot || sudo reboot', { timeoutMs: 10_000 }).catch(() => undefined);
    session.close();
  }
  await new Promise((r) => setTimeout(r, 1_000));
  const next = await connect();
  if (bootId) {
    const after = (await next.exec('cat /proc/sys/kernel/random/boot_id', { timeoutMs: 10_000 })).stdout.trim();
    if (after === bootId) {
      next.close();
      throw new Error('the instance answered, but it did not reboot (same boot id)');
    }
  }
  return next;
}
