import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { Client, Connection } from '@temporalio/client';
import { defaultPayloadConverter } from '@temporalio/common';
import {
  decodeFromPayloadsAtIndex,
  encodeToPayloads,
  loadDataConverter,
} from '@temporalio/common/lib/internal-non-workflow/index.js';
import { AesGcmPayloadCodec } from '../../../infra/codec/aes-gcm-codec.js';
import { generatePayloadKey, payloadKeysFromJson } from '../../../infra/codec/payload-keys.js';
import { testTemporalAddress } from '../../support/stack.js';

const codec = new AesGcmPayloadCodec(
  payloadKeysFromJson({ current: 'k1', keys: { k1: generatePayloadKey() } }),
);
const job = {
  image: 'SLES15-SP6-EC2',
  accounts: ['suse-prod-eu', 'suse-prod-us'],
  regions: { 'eu-central-1': true },
  size: 10_737_418_240,
};
const utf8 = (bytes: Uint8Array | null | undefined) => Buffer.from(bytes ?? []).toString('utf8');

const connections: Connection[] = [];
after(() => Promise.all(connections.map((c) => c.close())));

describe('AES-GCM codec in a Temporal data converter', () => {
  it('round-trips a job object through the SDK encode/decode helpers', async () => {
    const converter = loadDataConverter({ payloadCodecs: [codec] });
    const payloads = await encodeToPayloads(converter, job, 'second argument');
    assert.equal(payloads?.length, 2);
    for (const payload of payloads ?? []) assert.equal(utf8(payload.metadata?.encoding), 'binary/encrypted');
    assert.deepEqual(await decodeFromPayloadsAtIndex(converter, 0, payloads), job);
    assert.equal(await decodeFromPayloadsAtIndex(converter, 1, payloads), 'second argument');
  });

  it('makes a client store workflow input as ciphertext in the Temporal server', async () => {
    const connection = await Connection.connect({ address: await testTemporalAddress() });
    connections.push(connection);
    const client = new Client({ connection, dataConverter: { payloadCodecs: [codec] } });
    const workflowId = `codec-${randomBytes(4).toString('hex')}`;
    // No worker serves this queue: the test only needs the start event the server records.
    const handle = await client.workflow.start('codecProbe', {
      taskQueue: `codec-probe-${randomBytes(3).toString('hex')}`,
      workflowId,
      args: [job],
    });
    try {
      const { history } = await connection.workflowService.getWorkflowExecutionHistory({
        namespace: client.options.namespace,
        execution: { workflowId },
      });
      const input = history?.events?.[0]?.workflowExecutionStartedEventAttributes?.input?.payloads ?? [];
      assert.equal(input.length, 1);
      assert.equal(utf8(input[0]?.metadata?.encoding), 'binary/encrypted');
      assert.equal(utf8(input[0]?.metadata?.['encryption-key-id']), 'k1');
      assert.equal(Buffer.from(input[0]?.data ?? []).indexOf('suse-prod-eu'), -1);
      const [decoded] = await codec.decode(input);
      assert.deepEqual(defaultPayloadConverter.fromPayload(decoded!), job);
    } finally {
      await handle.terminate('codec test done');
    }
  });
});
