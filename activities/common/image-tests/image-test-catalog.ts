import type { NAMED_IMAGE_TESTS } from '../../../schemas/image-tests.js';

export type { ImageTestSpec } from '../../../schemas/release-plan.js';

/** What a named test runs; `reboot` tests reboot the instance and check it comes back. */
export type NamedTest =
  | { kind: 'command'; command: string; expectOutput?: RegExp; timeoutSeconds?: number }
  | { kind: 'reboot'; how: 'soft' | 'hard' };

const GCE_GUEST_SERVICES: NamedTest = {
  kind: 'command',
  command: [
    'for s in google-guest-agent.service google-osconfig-agent.service google-oslogin-cache.timer; do',
    '  systemctl is-active --quiet "$s" || { echo "$s is not active"; exit 1; }; done',
    'for s in google-startup-scripts.service google-shutdown-scripts.service; do',
    '  r=$(systemctl show -p Result --value "$s"); [ "$r" = success ] || { echo "$s ended: $r"; exit 1; }; done',
    'echo gce-guest-services-ok',
  ].join('\n'),
  expectOutput: /gce-guest-services-ok/,
};

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
  // img-proof's SLES/GCE/test_sles_gce_services.py: the guest environment runs, and the
  // one-shot startup/shutdown script units ended in success. test_sles_gce is its test
  // description (test_sles_gce.yaml), which holds just that test.
  test_sles_gce_services: GCE_GUEST_SERVICES,
  test_sles_gce: GCE_GUEST_SERVICES,
};
