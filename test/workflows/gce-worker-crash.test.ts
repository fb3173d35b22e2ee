// A GCE cloud worker killed in the middle of the tarball upload: its replacement continues
// the same resumable session (heartbeat details), so there is one object and one image.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ManagedProcess } from '../../infra/devstack/child-process.js';
import { startReleaseHarness, type ReleaseHarness } from '../support/release-harness.js';
import { gceTestJob, startGceEmulator, PUBLISH_PROJECT, type GceEmulator } from '../support/gce-emulator.js';
import { startWorkerProcess } from '../support/worker-process.js';
import { uploadProgressAtLeast } from '../support/upload-progress.js';
import { tempDir } from '../support/stack.js';

describe('a GCE worker killed during upload', () => {
  let g: GceEmulator;
  let h: ReleaseHarness;
  const logs = tempDir('gce-crash-logs');
  const accountsFile = join(logs, 'accounts.json');
  const workers: ManagedProcess[] = [];

  before(async () => {
    g = await startGceEmulator('gce-crash');
    await writeFile(accountsFile, JSON.stringify(g.accountsJson));
    // The workflows queue runs here; the gce queue only in killable worker processes.
    h = await startReleaseHarness('gce-crash', { queues: ['workflows'], diskMiB: 48, accounts: g.accounts });
  });
  after(async () => {
    for (const w of workers) await w.stop('SIGKILL');
    await h?.stop();
    await g?.stop();
  });

  const gceJob = (name: string) => gceTestJob(h.buildServer.url, name, { last_service: 'create' });

  it('resumes the same upload session after the worker is killed, and makes one object and one image', async () => {
    await h.publish('6');
    h.buildServer.setThrottle(3 * 1024 * 1024);
    const start = (name: string) => {
      const w = startWorkerProcess(h, 'gce', join(logs, `${name}.log`), {
        IMAGECAST_ACCOUNTS_FILE: accountsFile,
        IMAGECAST_GCE_COMPUTE_ENDPOINT: g.computeEndpoint,
        IMAGECAST_GCS_ENDPOINT: g.storageEndpoint,
        IMAGECAST_GCE_POLL_MS: '50',
      });
      workers.push(w);
      return w;
    };
    const first = start('first');
    const { releaseId } = await h.client.startRelease(gceJob('gce-crash'));
    await uploadProgressAtLeast(h.client.temporal, releaseId, 8 * 1024 * 1024);
    await first.stop('SIGKILL');
    h.buildServer.setThrottle(undefined);
    start('second');
    const status = await h.client.waitForRelease(releaseId, { pollIntervalMs: 300 });
    assert.equal(status.state, 'succeeded', status.error);
    assert.equal(g.images(PUBLISH_PROJECT).filter((i) => i.name === status.imageName).length, 1);
    assert.ok(g.gcs.shim.statusQueries >= 1, 'the retry asked the saved session where it stood instead of starting another');
    assert.deepEqual(await g.objects('pub-images'), [], 'no second body, no leftover part: the tarball went with cleanup');
  });
});
