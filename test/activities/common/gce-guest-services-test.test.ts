// The test_sles_gce command, run by a real shell against a stand-in systemctl: the GCE
// guest units are only on GCE images, so this is how the command's logic is checked here.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { chmodSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { NAMED_TESTS } from '../../../activities/common/image-tests/image-test-catalog.js';
import { tempDir } from '../../support/stack.js';

/** A systemctl that answers is-active and show from the given unit states. */
function fakeSystemctl(states: Record<string, string>): string {
  const dir = tempDir('fake-systemctl');
  const cases = Object.entries(states)
    .map(([unit, state]) => `  ${unit}) state=${state} ;;`)
    .join('\n');
  writeFileSync(
    join(dir, 'systemctl'),
    `#!/bin/sh\nunit=$(eval echo "\\$$#")\ncase "$unit" in\n${cases}\n  *) state=inactive ;;\nesac\nif [ "$1" = is-active ]; then [ "$state" = active ]; exit $?; fi\nif [ "$state" = active ] || [ "$state" = success ]; then echo success; else echo "$state"; fi\n`,
  );
  chmodSync(join(dir, 'systemctl'), 0o755);
  return dir;
}

function run(states: Record<string, string>): { status: number; output: string } {
  const test = NAMED_TESTS.test_sles_gce!;
  assert.equal(test.kind, 'command');
  const path = `${fakeSystemctl(states)}:${process.env.PATH}`;
  try {
    const output = execFileSync('sh', ['-c', test.kind === 'command' ? test.command : ''], { env: { PATH: path }, encoding: 'utf8' });
    return { status: 0, output };
  } catch (error) {
    const e = error as { status: number; stdout: string };
    return { status: e.status, output: e.stdout };
  }
}

const HEALTHY = {
  'google-guest-agent.service': 'active',
  'google-osconfig-agent.service': 'active',
  'google-oslogin-cache.timer': 'active',
  'google-startup-scripts.service': 'success',
  'google-shutdown-scripts.service': 'success',
};

describe('test_sles_gce (img-proof test_sles_gce_services)', () => {
  it('passes when the guest environment runs and the script units succeeded', () => {
    const { status, output } = run(HEALTHY);
    assert.equal(status, 0);
    const test = NAMED_TESTS.test_sles_gce!;
    assert.ok(test.kind === 'command' && test.expectOutput!.test(output), output);
  });

  it('fails naming the unit that is not running or did not succeed', () => {
    assert.deepEqual(run({ ...HEALTHY, 'google-osconfig-agent.service': 'failed' }), {
      status: 1,
      output: 'google-osconfig-agent.service is not active\n',
    });
    assert.deepEqual(run({ ...HEALTHY, 'google-startup-scripts.service': 'exit-code' }), {
      status: 1,
      output: 'google-startup-scripts.service ended: exit-code\n',
    });
  });
});
