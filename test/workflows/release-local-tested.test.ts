// The test step for real on the local cloud: a Debian image built by infra/build-demo-image.sh
// (debootstrap + kernel + openssh-server + cloud-init, cached per machine in ~/.cache/imagecast) is released;
// the test step boots it under QEMU (software emulation), injects the ephemeral key through a
// cloud-init NoCloud seed, and runs the tests over SSH. A broken image (sshd masked) fails the
// test step within its SSH wait, and leaves no VM and no image behind.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startReleaseHarness, type ReleaseHarness } from '../support/release-harness.js';
import { publishBuild } from '../../infra/devstack/build-service.js';
import { replayAndRecord as replayHistory } from '../support/replay-history.js';

const projectRoot = fileURLToPath(new URL('../../..', import.meta.url));

describe('the test step on the local cloud (QEMU, real sshd in the guest)', () => {
  let h: ReleaseHarness;
  let image: string;
  before(async () => {
    // Cached between runs; the first build takes about two minutes (Debian's mirror).
    image = execFileSync('bash', [join(projectRoot, 'infra/build-demo-image.sh')], { encoding: 'utf8' }).trim();
    // A reboot under software emulation on a busy 2-core machine took over 2 min once: reboots
    // get 5 (the never-answers test still waits only 2 for the first boot).
    h = await startReleaseHarness('local-tested', { diskFile: image, imageTests: { sshWaitMs: 120_000, rebootWaitMs: 300_000 } });
    await h.publish('1');
    await publishBuild(h.buildRoot, {
      image: 'broken-image',
      arch: 'x86_64',
      version: '1.0.0',
      release: '1',
      disk: image.replace(/\.raw$/, '-nosshd.raw'),
      compression: 'none',
      packages: [{ name: 'kernel-default', version: '6.4.0', release: '1.1', license: 'GPL-2.0-only' }],
    });
  });
  after(async () => h?.stop());

  /** The test step's paths (passed; failed → saga) replay from their real histories. */
  const replayAndRecord = (releaseId: string, name: string) => replayHistory(h.client.temporal, releaseId, name);

  const vmsOfTests = () => {
    const dir = join(h.localDataDir, 'test-instances');
    return existsSync(dir) ? readdirSync(dir) : [];
  };

  it('boots the new image, passes named and custom tests (a reboot included), and removes the VM', async () => {
    const { releaseId } = await h.client.startRelease(
      h.job({
        additional_regions: [],
        last_service: 'publish',
        tests: [
          'test_hostname',
          'test_cloud_init',
          'test_kernel_version',
          { name: 'is-debian', command: 'cat /etc/os-release', expect_output: '^ID=debian$' },
          { name: 'sudo-works', command: 'sudo -n true' },
          'test_soft_reboot',
          'test_hard_reboot',
          'test_sshd_running',
        ],
      }),
    );
    const done = await h.client.waitForRelease(releaseId, { pollIntervalMs: 1000 });
    assert.equal(done.state, 'succeeded', `${done.error}\n${JSON.stringify(done.testResults, null, 2)}`);
    assert.deepEqual(
      done.testResults?.map((r) => [r.name, r.passed]),
      [['test_hostname', true], ['test_cloud_init', true], ['test_kernel_version', true], ['is-debian', true], ['sudo-works', true], ['test_soft_reboot', true], ['test_hard_reboot', true], ['test_sshd_running', true]],
    );
    assert.match(done.steps.find((s) => s.name === 'test')!.detail ?? '', /8 of 8 passed on vm-/);
    const [run, ...more] = await h.catalog.testRuns(releaseId);
    assert.equal(more.length, 0, 'one test run in the catalog');
    assert.equal(run?.passed, true);
    assert.ok((run?.sshAfterMs ?? 0) > 1000, `boot time recorded: ${run?.sshAfterMs} ms`);
    assert.equal(run?.imageId, done.images[0]?.imageId);
    assert.deepEqual(run?.results.map((r) => r.name), done.testResults?.map((r) => r.name));
    assert.match(run?.results[0]?.output ?? '', /vm-/, 'test_hostname answered the instance name cloud-init set');
    await replayAndRecord(releaseId, 'release-local-tested');
    assert.deepEqual(vmsOfTests(), [], 'the VM is gone');
    assert.equal(h.imagesIn('region-1').length, 1, 'the tested image is released');
  });

  it('fails the test step as soon as the VM dies during boot, not at the end of the SSH wait', async () => {
    const { releaseId } = await h.client.startRelease(
      h.job({ cloud_image_name: 'crashed-v{date}-b{release}', additional_regions: [], tests: ['test_hostname'] }),
    );
    const instances = join(h.localDataDir, 'test-instances');
    let pid = 0;
    for (let i = 0; !(pid > 0); i++) {
      assert.ok(i < 600, 'a VM was started');
      await new Promise((r) => setTimeout(r, 200));
      const run = existsSync(instances) ? readdirSync(instances)[0] : undefined;
      const pidFile = run && join(instances, run, 'qemu.pid');
      if (pidFile && existsSync(pidFile)) pid = Number(readFileSync(pidFile, 'utf8').trim());
    }
    const killedAt = Date.now();
    process.kill(pid, 'SIGKILL');
    const done = await h.client.waitForRelease(releaseId, { pollIntervalMs: 500 });
    assert.equal(done.state, 'failed');
    assert.match(done.error ?? '', /test_hostname: the instance is gone while waiting for SSH on 127\.0\.0\.1:\d+: the VM \(QEMU\) exited with SIGKILL/);
    assert.ok(Date.now() - killedAt < 60_000, `failed ${Date.now() - killedAt} ms after the VM died (the SSH wait is 120 s)`);
    assert.deepEqual(vmsOfTests(), [], 'nothing of the VM is left');
  });

  it('fails the test step when the image never answers SSH, within the wait, leaving no VM and no image', async () => {
    const started = Date.now();
    const { releaseId } = await h.client.startRelease(
      h.job({ image: 'broken-image', cloud_image_name: 'broken-v{date}-b{release}', additional_regions: [], tests: ['test_hostname'] }),
    );
    const done = await h.client.waitForRelease(releaseId, { pollIntervalMs: 1000 });
    assert.equal(done.state, 'failed');
    assert.equal(done.steps.find((s) => s.name === 'test')?.state, 'failed');
    assert.match(done.error ?? '', /1 of 1 image tests failed: test_hostname: SSH on 127\.0\.0\.1:\d+ did not come up in time/);
    assert.ok(Date.now() - started < 5 * 60_000, 'within the SSH wait');
    assert.deepEqual(vmsOfTests(), [], 'no VM left running');
    assert.deepEqual(h.imagesIn('region-1').filter((i) => String(i.imageName).startsWith('broken-')), [], 'no image left');
    const runs = await h.catalog.testRuns(releaseId);
    assert.deepEqual(runs.map((r) => r.passed), [false], 'the failed run is kept in the catalog as the reason');
    await replayAndRecord(releaseId, 'release-local-test-failed');
  });
});
