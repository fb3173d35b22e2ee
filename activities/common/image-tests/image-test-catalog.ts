/** A test the job asks for: a named one (img-proof's names) or a command of its own. */
export interface ImageTestSpec {
  name: string;
  /** Custom tests: the command to run on the instance. */
  command?: string;
  /** Pass when the command exits with this (default 0). */
  expectExitCode?: number;
  /** …and its output matches this regular expression. */
  expectOutput?: string;
  timeoutSeconds?: number;
}

/** What a named test runs; `reboot` tests reboot the instance and check it comes back. */
export type NamedTest =
  | { kind: 'command'; command: string; expectOutput?: RegExp; timeoutSeconds?: number }
  | { kind: 'reboot'; how: 'soft' | 'hard' };

/**
 * img-proof's test names where they mean the same here. The image's own checks (package
 * lists, licenses) happen before release (download step conditions), so these only prove the
 * booted instance works.
 */
export const NAMED_TESTS: Record<string, NamedTest> = {
  test_hostname: { kind: 'command', command: 'hostname', expectOutput: /\S/ },
  test_sles: { kind: 'command', command: 'cat /etc/os-release', expectOutput: /^ID="?sles"?$/m },
  test_cloud_init: {
    kind: 'command',
    command: 'cloud-init status --wait || cloud-init status',
    expectOutput: /status: done/,
    timeoutSeconds: 600,
  },
  test_kernel_version: { kind: 'command', command: 'uname -r', expectOutput: /^\d+\.\d+/ },
  test_sshd_running: { kind: 'command', command: 'pgrep -x sshd || pgrep sshd', expectOutput: /\d/ },
  test_soft_reboot: { kind: 'reboot', how: 'soft' },
  test_hard_reboot: { kind: 'reboot', how: 'hard' },
};

/** The names a job may use, for its validation message. */
export const NAMED_TEST_NAMES = Object.keys(NAMED_TESTS);
