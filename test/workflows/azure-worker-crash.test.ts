// An Azure cloud worker killed in the middle of the page-blob upload: its replacement
// continues at the offset the heartbeat recorded, in the same blob (page blobs are written in
// place), so there is one blob, fetched from where the first worker stopped, and one image.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ManagedProcess } from '../../infra/devstack/child-process.js';
import { startReleaseHarness, type ReleaseHarness } from '../support/release-harness.js';
import { azureTestJob, startAzureEmulator, type AzureEmulator } from '../support/azure-emulator.js';
import { startWorkerProcess } from '../support/worker-process.js';
import { uploadProgressAtLeast } from '../support/upload-progress.js';
import { tempDir } from '../support/stack.js';

describe('an Azure worker killed during upload', () => {
  let az: AzureEmulator;
  let h: ReleaseHarness;
  const logs = tempDir('azure-crash-logs');
  const accountsFile = join(logs, 'accounts.json');
  const caFile = join(logs, 'arm-ca.pem');
  const workers: ManagedProcess[] = [];

  before(async () => {
    az = await startAzureEmulator();
    await writeFile(accountsFile, JSON.stringify(az.accountsJson));
    await writeFile(caFile, az.arm.caPem);
    // The workflows queue runs here; the azure queue only in killable worker processes.
    h = await startReleaseHarness('azure-crash', {
      queues: ['workflows'],
      diskMiB: 48,
      accounts: az.accounts,
    });
  });
  after(async () => {
    for (const w of workers) await w.stop('SIGKILL');
    await h?.stop();
    await az?.stop();
  });

  it('resumes into the same blob at the recorded offset after the worker is killed, and makes one image', async () => {
    await h.publish('7');
    h.buildServer.setThrottle(3 * 1024 * 1024);
    // Worker processes read the fakes from the environment, as a deployment would (docs/azure.md).
    const start = (name: string) => {
      const w = startWorkerProcess(h, 'azure', join(logs, `${name}.log`), {
        IMAGECAST_ACCOUNTS_FILE: accountsFile,
        IMAGECAST_AZURE_ARM_ENDPOINT: az.arm.endpoint,
        IMAGECAST_AZURE_ARM_CA_FILE: caFile,
        IMAGECAST_AZURE_BLOB_ENDPOINT: az.azurite.root,
        IMAGECAST_AZURE_BLOB_KEY: az.azurite.accountKey,
        IMAGECAST_AZURE_POLL_MS: '50',
      });
      workers.push(w);
      return w;
    };
    const first = start('first');
    const { releaseId } = await h.client.startRelease(
      azureTestJob(h.buildServer.url, 'az-crash', { last_service: 'create' }),
    );
    const progress = await uploadProgressAtLeast(h.client.temporal, releaseId, 8 * 1024 * 1024);
    await first.stop('SIGKILL');
    h.buildServer.setThrottle(undefined);
    const fetchesBefore = h.buildServer.requests.filter((r) => r.path.endsWith('.raw')).length;
    start('second');
    const status = await h.client.waitForRelease(releaseId, { pollIntervalMs: 300 });
    assert.equal(status.state, 'succeeded', status.error);
    // The second attempt read the image again from its start, to rebuild the checksum and check
    // the part the first one uploaded (its heartbeat carries that part's digest).
    const resumed = h.buildServer.requests.filter((r) => r.path.endsWith('.raw')).slice(fetchesBefore);
    assert.ok(resumed.length >= 1, 'the retry fetched the image');
    assert.equal(resumed[0]!.range, undefined);
    assert.ok(progress.diskOffset > 0 && progress.prefixChecksum, 'the heartbeat said what was uploaded');
    const images = az.arm.state.images().filter((i) => String(i.name).startsWith('az-crash'));
    assert.equal(images.length, 1);
    assert.match(
      String(
        (images[0]!.properties as { storageProfile: { osDisk: { blobUri: string } } }).storageProfile.osDisk
          .blobUri,
      ),
      new RegExp(`/${status.imageName}\\.vhd$`),
    );
    assert.deepEqual(await az.blobs(), [], 'one blob, removed by cleanup once the image had its copy');
  });
});
