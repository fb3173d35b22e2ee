// Secrets stay secret: an EC2 release (moto behind our shim) run by the real worker binary,
// with the accounts' credentials stored encrypted in PostgreSQL and every Temporal payload
// encrypted by our codec. Then the whole story is searched for every credential value used:
// the workflow histories (raw, and with every payload decoded), the worker's log, the database.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type pg from 'pg';
import proto from '@temporalio/proto';
import { startReleaseHarness, type ReleaseHarness } from '../support/release-harness.js';
import { startAwsEmulator, type AwsEmulator } from '../support/aws-emulator.js';
import { startWorkerProcess } from '../support/worker-process.js';
import { tempDir } from '../support/stack.js';
import { createPool } from '../../infra/db/pool.js';
import { AccountStore } from '../../activities/accounts/account-store.js';
import { keyRingMasterKeys } from '../../secrets/envelope.js';
import { singleKeyRing } from '../../secrets/key-ring.js';
import { AesGcmPayloadCodec } from '../../infra/codec/aes-gcm-codec.js';
import type { ManagedProcess } from '../../infra/devstack/child-process.js';

const { temporal } = proto;
type Payload = proto.temporal.api.common.v1.IPayload;

const MASTER_KEY = randomBytes(32).toString('base64');
const PAYLOAD_KEY = randomBytes(32).toString('base64');
const ACCESS_KEY_ID = `AKIA${randomBytes(8).toString('hex').toUpperCase()}`;
const SECRET_ACCESS_KEY = randomBytes(30).toString('base64');
const EXTERNAL_ID = `ext-${randomBytes(12).toString('hex')}`;
/** Imagecast's own AWS credentials (for AssumeRole), given to the worker in its environment. */
const BASE_KEY_ID = `AKIA${randomBytes(8).toString('hex').toUpperCase()}`;
const BASE_SECRET = randomBytes(30).toString('base64');
const SECRETS = { ACCESS_KEY_ID, SECRET_ACCESS_KEY, EXTERNAL_ID, BASE_SECRET, MASTER_KEY, PAYLOAD_KEY };
const DESCRIPTION = `secrets test image ${randomBytes(4).toString('hex')}`;

describe('secrets in a release (stored accounts, encrypted payloads)', () => {
  let aws: AwsEmulator;
  let h: ReleaseHarness;
  let pool: pg.Pool;
  let worker: ManagedProcess;
  const payloadKeys = singleKeyRing(PAYLOAD_KEY, 'IMAGECAST_PAYLOAD_KEY');
  const codec = new AesGcmPayloadCodec(payloadKeys);

  before(async () => {
    aws = await startAwsEmulator('release-secrets');
    // No in-process workers: the worker binary below does everything, so its log is the whole log.
    h = await startReleaseHarness('release-secrets', { queues: [], payloadKeys });
    pool = createPool(h.databaseUrl);
    const store = new AccountStore(pool, keyRingMasterKeys(singleKeyRing(MASTER_KEY, 'IMAGECAST_MASTER_KEY')), 'test');
    await store.add('ec2', {
      name: 'stored-keys',
      region: 'us-east-1',
      additional_regions: ['eu-west-1'],
      group: 'secret-test',
      credentials: { access_key_id: ACCESS_KEY_ID, secret_access_key: SECRET_ACCESS_KEY },
    });
    await store.add('ec2', {
      name: 'stored-role',
      region: 'us-west-2',
      group: 'secret-test',
      credentials: { role_arn: 'arn:aws:iam::333333333333:role/imagecast', external_id: EXTERNAL_ID },
    });
    worker = startWorkerProcess(h, 'workflows,ec2', join(tempDir('release-secrets-logs'), 'worker.log'), {
      IMAGECAST_MASTER_KEY: MASTER_KEY,
      IMAGECAST_PAYLOAD_KEY: PAYLOAD_KEY,
      IMAGECAST_AWS_ENDPOINT: aws.endpoint,
      IMAGECAST_EC2_POLL_MS: '50',
      AWS_ACCESS_KEY_ID: BASE_KEY_ID,
      AWS_SECRET_ACCESS_KEY: BASE_SECRET,
      IMAGECAST_ACCOUNTS_FILE: '',
    });
    await h.publish('1');
  });
  after(async () => {
    await worker?.stop('SIGTERM');
    await pool?.end();
    await h?.stop();
    await aws?.stop();
  });

  it('releases with the stored credentials, and no secret is in any history, payload, log line or row', async () => {
    const { releaseId } = await h.client.startRelease({
      cloud: 'ec2',
      cloud_groups: ['secret-test'],
      cloud_image_name: 'secrets-v{date}-b{release}',
      image_description: DESCRIPTION,
      download_url: h.buildServer.url,
      image: 'test-image',
      last_service: 'publish',
      utctime: 'now',
      root_volume_size: 1,
    });
    const done = await h.client.waitForRelease(releaseId, { pollIntervalMs: 200 });
    assert.equal(done.state, 'succeeded', `${done.error}\n${readFileSync(worker.logFile, 'utf8').slice(-3000)}`);
    assert.deepEqual(done.images.map((i) => `${i.account}/${i.region}`).sort(), [
      'stored-keys/eu-west-1',
      'stored-keys/us-east-1',
      'stored-role/us-west-2',
    ]);
    // The credentials were really used: moto saw the stored key id sign requests, and the role assumed with its external id.
    const assumed = aws.shim.calls('sts:AssumeRole');
    assert.ok(assumed.some((c) => c.params.ExternalId === EXTERNAL_ID));

    const ids = [releaseId, `${releaseId}/stored-keys`, `${releaseId}/stored-role`];
    let decodedText = '';
    for (const id of ids) {
      const history = await h.client.temporal.workflow.getHandle(id).fetchHistory();
      const raw = Buffer.from(temporal.api.history.v1.History.encode(history).finish()).toString('latin1');
      assert.ok(!raw.includes(DESCRIPTION), `${id}: the job document is encrypted in history`);
      const payloads = collectPayloads(history);
      assert.ok(payloads.length > 10, `${id}: history has payloads`);
      const decoded = await codec.decode(payloads.map((p) => temporal.api.common.v1.Payload.create(p)));
      const text = raw + decoded.map((p) => Buffer.from(p.data ?? []).toString('utf8')).join('\n');
      decodedText += text;
      for (const [name, value] of Object.entries(SECRETS)) assert.ok(!text.includes(value), `${id}: no ${name} in history`);
    }
    assert.ok(decodedText.includes(DESCRIPTION), 'the decoded payloads are the real ones (the job is there)');

    const log = readFileSync(worker.logFile, 'utf8');
    assert.match(log, /worker started/);
    assert.match(log, /store \(master key k-[0-9a-f]{8}\)/);
    for (const [name, value] of Object.entries(SECRETS)) assert.ok(!log.includes(value), `no ${name} in the worker log`);

    const { rows } = await pool.query<{ t: string }>(
      `SELECT row_to_json(a)::text AS t FROM accounts a
       UNION ALL SELECT row_to_json(l)::text FROM audit_log l
       UNION ALL SELECT row_to_json(c)::text FROM catalog_images c`,
    );
    const database = rows.map((r) => r.t).join('\n');
    assert.ok(database.includes('stored-keys'));
    for (const [name, value] of Object.entries(SECRETS)) assert.ok(!database.includes(value), `no ${name} in the database`);
  });
});

/** Every Payload in a history (inputs, results, heartbeat details, memo, failures' details), wherever it sits. */
function collectPayloads(node: unknown, out: Payload[] = []): Payload[] {
  if (!node || typeof node !== 'object') return out;
  if (node instanceof Uint8Array) return out;
  const candidate = node as Payload;
  if (candidate.metadata && typeof candidate.metadata === 'object' && 'encoding' in candidate.metadata) {
    out.push(candidate);
    return out;
  }
  for (const value of Object.values(node)) collectPayloads(value, out);
  return out;
}
