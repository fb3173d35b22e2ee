import type { NAMED_IMAGE_TESTS } from '../../../schemas/image-tests.js';

export type { ImageTestSpec } from '../../../schemas/release-plan.js';

/** What a named test runs; `reboot` tests reboot the instance and check it comes back. */
export type NamedTest =
  | { kind: 'command'; command: string; expectOutput?: RegExp; timeoutSeconds?: number }
  | { kind: 'reboot'; how: 'soft' | 'hard' };

/**
 * img-proof's test names where they mean the same here. The image's own checks (package
 * lists, licenses) happen before release (download step conditions), so these only prove the
 * booted instance works.
 */
export const NAMED_TESTS: Record<(typeof NAMED_IMAGE_TESTS)[number], NamedTest> & Record<string, NamedTest | undefined> = {
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
