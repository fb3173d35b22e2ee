import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { defaultPayloadConverter, type Payload } from '@temporalio/common';
import { AesGcmPayloadCodec } from '../../../infra/codec/aes-gcm-codec.js';
import { startCodecServer, type CodecServer } from '../../../infra/codec/codec-server.js';
import { generatePayloadKey, payloadKeysFromJson } from '../../../infra/codec/payload-keys.js';

const token = 'test-token-4f1c';
const webUi = 'http://localhost:8233';
const codec = new AesGcmPayloadCodec(
  payloadKeysFromJson({ current: 'k1', keys: { k1: generatePayloadKey() } }),
);
let server: CodecServer;

before(async () => {
  server = await startCodecServer({ codec, authToken: token, corsOrigins: [webUi], maxBodyBytes: 64 * 1024 });
});
after(() => server.stop());

/** A payload in the protocol's JSON form: every bytes field base64. */
const toJson = (p: Payload) => ({
  metadata: Object.fromEntries(
    Object.entries(p.metadata ?? {}).map(([k, v]) => [k, Buffer.from(v).toString('base64')]),
  ),
  data: Buffer.from(p.data ?? []).toString('base64'),
});
const fromJson = (p: { metadata: Record<string, string>; data: string }): Payload => ({
  metadata: Object.fromEntries(Object.entries(p.metadata).map(([k, v]) => [k, Buffer.from(v, 'base64')])),
  data: Buffer.from(p.data, 'base64'),
});
const b64 = (text: string) => Buffer.from(text).toString('base64');

function post(path: string, body: string, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(server.url + path, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${token}`, ...headers },
    body,
  });
}

describe('codec server', () => {
  it('listens on a free loopback port', () => {
    assert.match(server.url, /^http:\/\/127\.0\.0\.1:\d+$/);
    assert.notEqual(new URL(server.url).port, '0');
  });

  it('encodes then decodes payloads over HTTP in the Temporal JSON form', async () => {
    const original = [
      defaultPayloadConverter.toPayload({ account: 'suse-prod-eu' }),
      defaultPayloadConverter.toPayload(42),
    ];
    const encodedResponse = await post('/encode', JSON.stringify({ payloads: original.map(toJson) }));
    assert.equal(encodedResponse.status, 200);
    assert.match(encodedResponse.headers.get('content-type') ?? '', /application\/json/);
    const encoded = (await encodedResponse.json()) as {
      payloads: { metadata: Record<string, string>; data: string }[];
    };
    assert.equal(encoded.payloads.length, 2);
    assert.equal(encoded.payloads[0]?.metadata.encoding, b64('binary/encrypted'));
    assert.equal(encoded.payloads[0]?.metadata['encryption-key-id'], b64('k1'));

    // The CLI's endpoint template puts the namespace in the path; the Web UI sends X-Namespace.
    const decodedResponse = await post('/default/decode', JSON.stringify(encoded), {
      'X-Namespace': 'default',
    });
    assert.equal(decodedResponse.status, 200);
    const decoded = (await decodedResponse.json()) as typeof encoded;
    assert.deepEqual(decoded.payloads, original.map(toJson));
    assert.deepEqual(defaultPayloadConverter.fromPayload(fromJson(decoded.payloads[0]!)), {
      account: 'suse-prod-eu',
    });
  });

  it('answers an empty payload list with an empty one', async () => {
    const response = await post('/decode', '{"payloads":[]}');
    assert.deepEqual(await response.json(), { payloads: [] });
  });

  it('refuses requests without the bearer token, or with a wrong one', async () => {
    const body = '{"payloads":[]}';
    for (const headers of [
      { Authorization: '' },
      { Authorization: 'Bearer wrong' },
      { Authorization: token },
    ]) {
      const response = await post('/decode', body, headers);
      assert.equal(response.status, 401);
      assert.equal(response.headers.get('www-authenticate'), 'Bearer');
      const { error } = (await response.json()) as { error: string };
      assert.equal(error, 'missing or wrong bearer token');
    }
  });

  it('answers the CORS preflight of the allowed origin, and not of another', async () => {
    const preflight = (origin: string) =>
      fetch(`${server.url}/decode`, {
        method: 'OPTIONS',
        headers: {
          Origin: origin,
          'Access-Control-Request-Method': 'POST',
          'Access-Control-Request-Headers': 'content-type, authorization, x-namespace',
        },
      });
    const allowed = await preflight(webUi);
    assert.equal(allowed.status, 204);
    assert.equal(allowed.headers.get('access-control-allow-origin'), webUi);
    assert.equal(allowed.headers.get('access-control-allow-methods'), 'POST, OPTIONS');
    assert.equal(
      allowed.headers.get('access-control-allow-headers'),
      'Content-Type, Authorization, X-Namespace',
    );
    assert.equal(allowed.headers.get('access-control-allow-credentials'), 'true');

    const other = await preflight('https://evil.example');
    assert.equal(other.status, 403);
    assert.equal(other.headers.get('access-control-allow-origin'), null);
    // A POST from a page of another origin is refused too, not only hidden from it.
    assert.equal((await post('/decode', '{"payloads":[]}', { Origin: 'https://evil.example' })).status, 403);
    const fromUi = await post('/decode', '{"payloads":[]}', { Origin: webUi });
    assert.equal(fromUi.status, 200);
    assert.equal(fromUi.headers.get('access-control-allow-origin'), webUi);
  });

  it('says what is wrong with a bad body', async () => {
    const notJson = await post('/decode', '{"payloads": [');
    assert.equal(notJson.status, 400);
    assert.deepEqual(await notJson.json(), { error: 'request body is not valid JSON' });
    const wrongShape = await post('/decode', '{"payload": []}');
    assert.equal(wrongShape.status, 400);
    assert.match(((await wrongShape.json()) as { error: string }).error, /payloads/);
    const tooLarge = await post('/encode', JSON.stringify({ payloads: [{ data: 'A'.repeat(100 * 1024) }] }));
    assert.equal(tooLarge.status, 413);
  });

  it('reports a payload it cannot decrypt without crashing', async () => {
    const foreign = {
      metadata: { encoding: b64('binary/encrypted'), 'encryption-key-id': b64('k9') },
      data: b64('x'),
    };
    const response = await post('/decode', JSON.stringify({ payloads: [foreign] }));
    assert.equal(response.status, 422);
    assert.match(((await response.json()) as { error: string }).error, /"k9"/);
  });

  it('knows only POST /encode and /decode', async () => {
    assert.equal((await fetch(`${server.url}/decode`)).status, 405);
    assert.equal((await post('/status', '{}')).status, 404);
  });
});
