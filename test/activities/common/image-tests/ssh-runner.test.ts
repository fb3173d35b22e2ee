// The image test runner against a real OpenSSH server (Debian openssh-server, started here
// on a free loopback port with a generated host key; infra/devstack/sshd.ts). No fake SSH.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startSshd, type Sshd } from '../../../../infra/devstack/sshd.js';
import { ephemeralKeyPair } from '../../../../activities/common/image-tests/ssh-keys.js';
import { runImageTests, type RunImageTestsOptions } from '../../../../activities/common/image-tests/run-image-tests.js';
import { HostKeyMismatch, type SshTarget } from '../../../../activities/common/image-tests/ssh-session.js';
import { tempDir } from '../../../support/stack.js';

describe('image tests over SSH (real sshd)', () => {
  const keys = ephemeralKeyPair();
  let sshd: Sshd;
  let target: SshTarget;
  const options = (more: Partial<RunImageTestsOptions> = {}): RunImageTestsOptions => ({
    sshWaitMs: 15_000,
    commandTimeoutMs: 10_000,
    verifyBootId: false,
    ...more,
  });

  before(async () => {
    sshd = await startSshd(tempDir('sshd'), keys.publicKey);
    target = { host: sshd.host, port: sshd.port, user: sshd.user, privateKey: keys.privateKey };
  });
  after(async () => sshd?.stop());

  it('runs a passing suite and pins the host key it saw', async () => {
    const { results, hostKeyFingerprint } = await runImageTests(
      target,
      [{ name: 'test_hostname' }, { name: 'test_kernel_version' }, { name: 'greets', command: 'echo hello from $(hostname)', expectOutput: '^hello from ' }],
      options(),
    );
    assert.deepEqual(results.map((r) => [r.name, r.passed]), [['test_hostname', true], ['test_kernel_version', true], ['greets', true]]);
    assert.match(results[2]!.output, /hello from /);
    assert.equal(hostKeyFingerprint, sshd.hostKeyFingerprint);
  });

  it('records a failing test with its output and goes on; a command past its timeout fails as timed out', async () => {
    const { results } = await runImageTests(
      target,
      [
        { name: 'broken', command: 'echo something broke >&2; exit 3' },
        { name: 'slow', command: 'sleep 30', timeoutSeconds: 1 },
        { name: 'wrong output', command: 'echo no', expectOutput: '^yes$' },
        { name: 'test_no_such_thing' },
        { name: 'still runs', command: 'true' },
      ],
      options(),
    );
    const byName = Object.fromEntries(results.map((r) => [r.name, r]));
    assert.equal(byName.broken?.passed, false);
    assert.equal(byName.broken?.error, 'exit code 3, expected 0');
    assert.match(byName.broken?.output ?? '', /something broke/);
    assert.equal(byName.slow?.error, 'timed out after 1 s');
    assert.ok(byName.slow!.durationMs < 5_000, `stopped at the timeout (${byName.slow!.durationMs} ms)`);
    assert.match(byName['wrong output']?.error ?? '', /output does not match/);
    assert.equal(byName.test_no_such_thing?.error, 'unknown test "test_no_such_thing"');
    assert.equal(byName['still runs']?.passed, true);
  });

  it('refuses a server whose host key is not the expected one', async () => {
    await assert.rejects(
      runImageTests({ ...target, hostKeyFingerprint: 'SHA256:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA' }, [{ name: 'test_hostname' }], options()),
      (error: Error) => {
        assert.ok(error instanceof HostKeyMismatch);
        assert.match(error.message, new RegExp(`showed host key ${sshd.hostKeyFingerprint.replace(/[+/]/g, '\\$&')}, not the expected`));
        return true;
      },
    );
  });

  it('reconnects after a reboot-style restart and runs the tests after it', async () => {
    const before = sshd.restarts();
    const { results } = await runImageTests(target, [{ name: 'test_soft_reboot' }, { name: 'test_hostname' }], options({ softRebootCommand: sshd.rebootCommand }));
    assert.deepEqual(results.map((r) => [r.name, r.passed, r.error]), [['test_soft_reboot', true, undefined], ['test_hostname', true, undefined]]);
    assert.equal(sshd.restarts(), before + 1, 'sshd went away and came back');
  });

  it('gives up on a key the server does not accept, within the wait, saying why', async () => {
    const stranger = ephemeralKeyPair();
    const started = Date.now();
    await assert.rejects(
      runImageTests({ ...target, privateKey: stranger.privateKey }, [{ name: 'test_hostname' }], options({ sshWaitMs: 2_000 })),
      /did not come up in time \(last: All configured authentication methods failed\)/,
    );
    assert.ok(Date.now() - started < 10_000);
  });

  it('stops waiting as soon as the provider says the instance is gone', async () => {
    const stranger = ephemeralKeyPair();
    let asked = 0;
    const started = Date.now();
    await assert.rejects(
      runImageTests({ ...target, privateKey: stranger.privateKey }, [{ name: 'test_hostname' }], options({
        sshWaitMs: 60_000,
        instanceGone: async () => {
          asked++;
          if (asked === 1) throw new Error('RequestLimitExceeded'); // not knowing is not "gone"
          return asked >= 3 ? 'the VM (QEMU) exited with SIGKILL' : undefined;
        },
      })),
      /the instance is gone while waiting for SSH on 127\.0\.0\.1:\d+: the VM \(QEMU\) exited with SIGKILL/,
    );
    assert.equal(asked, 3, 'asked while waiting, at most every 5 s');
    assert.ok(Date.now() - started >= 10_000, 'a failed question is not an answer');
    assert.ok(Date.now() - started < 25_000, 'long before the 60 s wait');
  });
});
