import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
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
    // Up to a minute: loading the cloud SDKs alone took 16 s on a loaded 2-core test machine.
    for (let i = 0; i < 600 && !log().includes('worker started'); i++)
      await new Promise((r) => setTimeout(r, 100));
    assert.match(log(), /database migrated/);
    assert.match(log(), /worker started/);
    worker.child.kill('SIGTERM');
    assert.equal(await worker.exited, 0, log());
    assert.match(log(), /worker stopped/);
  });

  it('says which setting is wrong when the database cannot be reached or the metrics port is taken', async () => {
    const dir = tempDir('worker-unreachable');
    const taken = createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    const port = (taken.address() as { port: number }).port;
    try {
      const run = async (env: Record<string, string>, name: string) => {
        const worker = startManagedProcess(
          process.execPath,
          [workerMain, '--queues', 'workflows'],
          join(dir, `${name}.log`),
          {
            env: {
              ...process.env,
              IMAGECAST_DATABASE_URL: 'postgresql://someone:not-this-password@127.0.0.1:1/imagecast',
              ...env,
            },
          },
        );
        return { code: await worker.exited, log: readFileSync(worker.logFile, 'utf8') };
      };
      const db = await run({}, 'db');
      assert.equal(db.code, 1);
      assert.match(
        db.log,
        /^worker: cannot use the database at 127\.0\.0\.1:1\/imagecast \(IMAGECAST_DATABASE_URL\): .*ECONNREFUSED/m,
      );
      assert.doesNotMatch(db.log, /not-this-password|    at /);
      const metrics = await run({ IMAGECAST_METRICS_ADDRESS: `127.0.0.1:${port}` }, 'metrics');
      assert.equal(metrics.code, 2);
      assert.match(
        metrics.log,
        new RegExp(
          `worker config: metricsAddress: cannot serve metrics at 127\\.0\\.0\\.1:${port}: .*in use`,
        ),
      );
    } finally {
      await new Promise((resolve) => taken.close(resolve));
    }
  });

  it('refuses a bad configuration with the field and the reason', async () => {
    const dir = tempDir('worker-bad');
    const worker = startManagedProcess(
      process.execPath,
      [workerMain, '--queues', 'workflows,moon'],
      join(dir, 'worker.log'),
      {
        env: {
          ...process.env,
          IMAGECAST_DATABASE_URL: '',
          IMAGECAST_AWS_CREDENTIALS_RENEW_BEFORE_SECONDS: '30',
        },
      },
    );
    assert.equal(await worker.exited, 2);
    const log = readFileSync(worker.logFile, 'utf8');
    assert.match(log, /worker config: queues\.1: /);
    assert.match(log, /worker config: databaseUrl: /);
    assert.match(log, /worker config: awsCredentialsRenewBeforeSeconds: .*at least 60/);
  });
});
