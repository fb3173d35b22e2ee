// A start the Temporal server refuses surfaces the server's reason, not the SDK's "Failed to
// start Workflow": through the CLI (text and --json) and through the gateway. A dev server of
// this test's own, with a small payload size limit, does the refusing.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Connection } from '@temporalio/client';
import type pg from 'pg';
import { startManagedProcess, waitUntilReady, type ManagedProcess } from '../../../infra/devstack/child-process.js';
import { temporalBinary } from '../../../infra/devstack/temporal-dev-server.js';
import { freePort } from '../../../infra/devstack/free-port.js';
import { createPool } from '../../../infra/db/pool.js';
import { migrate } from '../../../infra/db/migrate.js';
import { CiTokens } from '../../../activities/accounts/ci-tokens.js';
import { startReleaseGateway, type ReleaseGateway } from '../../../gateway/release-gateway.js';
import { GatewayError, ImagecastClient, ImagecastGateway } from '../../../client/sdk/index.js';
import { runCli } from '../../support/cli-process.js';
import { freshDatabaseUrl, tempDir } from '../../support/stack.js';

/** Bytes a start's input may have on this server: a job document with its defaults is larger. */
const BLOB_LIMIT = 256;

describe('a start the server refuses', () => {
  let server: ManagedProcess;
  let address: string;
  let client: ImagecastClient;
  let pool: pg.Pool;
  let gateway: ReleaseGateway;
  const job = { cloud: 'local', cloud_account: 'test', cloud_image_name: 'refused-v{date}', image_description: 'refused', download_url: 'http://127.0.0.1:9/builds/', image: 'test-image' };

  before(async () => {
    const port = await freePort();
    address = `127.0.0.1:${port}`;
    const dir = tempDir('start-refused');
    server = startManagedProcess(
      temporalBinary(),
      ['server', 'start-dev', '--ip', '127.0.0.1', '--port', String(port), '--headless', '--log-level', 'error',
        '--dynamic-config-value', `limit.blobSize.error=${BLOB_LIMIT}`, '--dynamic-config-value', `limit.blobSize.warn=${BLOB_LIMIT}`,
        ...['ImageName', 'Cloud', 'Account', 'ReleaseStep', 'ReleaseStatus'].flatMap((name) => ['--search-attribute', `${name}=Keyword`])],
      join(dir, 'temporal.log'),
      { keepsParentAlive: false },
    );
    await waitUntilReady('Temporal dev server', server, async () => {
      const connection = await Connection.connect({ address, connectTimeout: 1000 });
      try {
        return (await connection.healthService.check({})).status === 1;
      } finally {
        await connection.close();
      }
    }, 60_000);
    client = await ImagecastClient.connect({ address });
    pool = createPool(await freshDatabaseUrl('start-refused'));
    await migrate(pool);
    gateway = await startReleaseGateway({ pool, client });
  });
  after(async () => {
    await gateway?.stop();
    await pool?.end();
    await client?.close();
    await server?.stop('SIGTERM');
  });

  it('job add says the server refused it and why (exit 2: the input is too large), in text and JSON', async () => {
    const file = join(tempDir('start-refused-job'), 'job.json');
    writeFileSync(file, JSON.stringify(job));
    const env = { ...process.env, IMAGECAST_TEMPORAL_ADDRESS: address };
    const added = await runCli(['job', 'add', 'local', file], env);
    assert.equal(added.status, 2, added.stdout + added.stderr);
    assert.match(added.stderr, /^imagecast: Temporal refused to start release release-local-test-refused-v\d{8}: .*[Bb]lob data size exceeds limit/m);
    const asJson = await runCli(['job', 'add', 'local', file, '--json'], env);
    const { error } = JSON.parse(asJson.stdout) as { error: { code: string; reason: string; grpcCode: string } };
    assert.equal(error.code, 'start_refused');
    assert.equal(error.grpcCode, 'INVALID_ARGUMENT');
    assert.match(error.reason, /[Bb]lob data size exceeds limit/);
  });

  it('the gateway answers 400 with the server\'s reason', async () => {
    const { token } = await new CiTokens(pool).create({ scope: { cloud: 'local', target: 'test' }, ttlSeconds: 600, createdBy: 'test' });
    const refused = await new ImagecastGateway({ url: gateway.url, token }).startRelease(job).catch((e: unknown) => e);
    assert.ok(refused instanceof GatewayError, String(refused));
    assert.equal(refused.status, 400);
    assert.match(refused.message, /Temporal refused to start release .*[Bb]lob data size exceeds limit/);
  });
});
