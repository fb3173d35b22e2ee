import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startManagedProcess } from '../../infra/devstack/child-process.js';
import { freshDatabaseUrl, tempDir, testTemporalAddress, uniqueQueuePrefix } from '../support/stack.js';

const workerMain = fileURLToPath(new URL('../../worker/main.js', import.meta.url));

describe('worker binary', () => {
  it('serves the queues it is told, migrates the database, and drains on SIGTERM', async () => {
    const dir = tempDir('worker');
    const worker = startManagedProcess(
      process.execPath,
      [workerMain, '--queues', 'workflows,local'],
      join(dir, 'worker.log'),
      {
        env: {
          ...process.env,
          IMAGECAST_TEMPORAL_ADDRESS: await testTemporalAddress(),
          IMAGECAST_DATABASE_URL: await freshDatabaseUrl('worker'),
          IMAGECAST_QUEUE_PREFIX: uniqueQueuePrefix('worker'),
          IMAGECAST_LOCAL_DATA_DIR: join(dir, 'cloud'),
        },
      },
    );
    const log = () => readFileSync(worker.logFile, 'utf8');
    for (let i = 0; i < 100 && !log().includes('worker started'); i++)
      await new Promise((r) => setTimeout(r, 100));
    assert.match(log(), /database migrated/);
    assert.match(log(), /worker started/);
    worker.child.kill('SIGTERM');
    assert.equal(await worker.exited, 0, log());
    assert.match(log(), /worker stopped/);
  });

  it('refuses a bad configuration with the field and the reason', async () => {
    const dir = tempDir('worker-bad');
    const worker = startManagedProcess(
      process.execPath,
      [workerMain, '--queues', 'workflows,moon'],
      join(dir, 'worker.log'),
      {
        env: { ...process.env, IMAGECAST_DATABASE_URL: '', IMAGECAST_AWS_CREDENTIALS_RENEW_BEFORE_SECONDS: '30' },
      },
    );
    assert.equal(await worker.exited, 2);
    const log = readFileSync(worker.logFile, 'utf8');
    assert.match(log, /worker config: queues\.1: /);
    assert.match(log, /worker config: databaseUrl: /);
    assert.match(log, /worker config: awsCredentialsRenewBeforeSeconds: .*at least 60/);
  });
});
