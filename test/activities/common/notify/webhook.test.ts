import { after, before, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ApplicationFailure } from '@temporalio/common';
import { freePort } from '../../../../infra/devstack/free-port.js';
import { releaseMessage } from '../../../../activities/common/notify/release-message.js';
import {
  sendReleaseWebhook,
  signWebhook,
  verifyWebhookSignature,
  webhookLabel,
} from '../../../../activities/common/notify/webhook.js';
import { succeededRelease } from '../../../support/release-status-fixture.js';

const secret = 'webhook-secret-0123456789';

interface Received {
  method: string;
  headers: IncomingHttpHeaders;
  rawBody: string;
}

let server: Server;
let url: string;
let received: Received[];
/** What the receiver answers next. */
let answer: { status: number; body?: string };

before(async () => {
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      received.push({
        method: req.method ?? '',
        headers: req.headers,
        rawBody: Buffer.concat(chunks).toString('utf8'),
      });
      res.writeHead(answer.status, { 'content-type': 'text/plain' }).end(answer.body ?? '');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks/imagecast?token=url-credential`;
});
after(() => new Promise((resolve) => server.close(resolve)));
beforeEach(() => {
  received = [];
  answer = { status: 204 };
});

async function failure(
  promise: Promise<unknown>,
  type: string,
  nonRetryable: boolean,
): Promise<ApplicationFailure> {
  const error = await promise.then(
    () => assert.fail('expected a failure'),
    (e: unknown) => e,
  );
  assert.ok(error instanceof ApplicationFailure, `expected an ApplicationFailure, got ${String(error)}`);
  assert.equal(error.type, type);
  assert.equal(error.nonRetryable, nonRetryable);
  return error;
}

describe('release webhook', () => {
  it('POSTs the JSON body with a signature the receiver can verify', async () => {
    const body = releaseMessage(succeededRelease()).json;
    await sendReleaseWebhook({ url, secret }, body);
    const [request] = received;
    assert.ok(request);
    assert.equal(request.method, 'POST');
    assert.equal(request.headers['content-type'], 'application/json');
    assert.equal(request.headers['x-imagecast-event'], 'release.finished');
    assert.deepEqual(JSON.parse(request.rawBody), body);
    const timestamp = String(request.headers['x-imagecast-timestamp']);
    const signature = String(request.headers['x-imagecast-signature']);
    assert.match(signature, /^sha256=[0-9a-f]{64}$/);
    assert.ok(Math.abs(Number(timestamp) - Date.now() / 1000) < 60);
    assert.equal(verifyWebhookSignature(secret, timestamp, request.rawBody, signature), true);
    assert.equal(
      verifyWebhookSignature(secret, timestamp, Buffer.from(request.rawBody), signature),
      true,
      'raw bytes work too',
    );
  });

  it('fails verification with the wrong secret, a changed body or timestamp, or a bad header', async () => {
    await sendReleaseWebhook({ url, secret }, releaseMessage(succeededRelease()).json);
    const { headers, rawBody } = received[0] ?? assert.fail('no request');
    const timestamp = String(headers['x-imagecast-timestamp']);
    const signature = String(headers['x-imagecast-signature']);
    assert.equal(verifyWebhookSignature('another-secret-0123456789', timestamp, rawBody, signature), false);
    assert.equal(
      verifyWebhookSignature(secret, timestamp, rawBody.replace('succeeded', 'failed'), signature),
      false,
    );
    assert.equal(verifyWebhookSignature(secret, String(Number(timestamp) + 1), rawBody, signature), false);
    assert.equal(verifyWebhookSignature(secret, timestamp, rawBody, undefined), false);
    assert.equal(verifyWebhookSignature(secret, timestamp, rawBody, signature.slice(0, -2)), false);
    assert.equal(
      verifyWebhookSignature(secret, timestamp, rawBody, signature.replace('sha256=', 'sha1=')),
      false,
    );
  });

  it('rejects a correctly signed request whose timestamp is stale or from the future', () => {
    const now = 1_750_000_000;
    const body = '{"event":"release.finished"}';
    const signedAt = (t: number) => signWebhook(secret, String(t), body);
    assert.equal(verifyWebhookSignature(secret, now - 300, body, signedAt(now - 300), 300, now), true);
    assert.equal(verifyWebhookSignature(secret, now - 301, body, signedAt(now - 301), 300, now), false);
    assert.equal(verifyWebhookSignature(secret, now + 301, body, signedAt(now + 301), 300, now), false);
    assert.equal(verifyWebhookSignature(secret, 'soon', body, signedAt(now), 300, now), false);
  });

  it('retries when the receiver answers 500, and keeps the URL credential out of the error', async () => {
    answer = { status: 500, body: 'database down' };
    const error = await failure(sendReleaseWebhook({ url, secret }, {}), 'NotificationUnavailable', false);
    assert.match(error.message, /answered 500 Internal Server Error: database down/);
    assert.doesNotMatch(error.message, /url-credential|hooks\/imagecast/);
  });

  it('gives up when the receiver answers 400', async () => {
    answer = { status: 400, body: 'invalid signature' };
    const error = await failure(sendReleaseWebhook({ url, secret }, {}), 'NotificationRefused', true);
    assert.match(error.message, /answered 400 Bad Request: invalid signature/);
  });

  it('retries on 429 (the receiver is busy)', async () => {
    answer = { status: 429 };
    await failure(sendReleaseWebhook({ url, secret }, {}), 'NotificationUnavailable', false);
  });

  it('retries when nobody listens, and when the receiver does not answer in time', async () => {
    const refused = await failure(
      sendReleaseWebhook({ url: `http://127.0.0.1:${await freePort()}/`, secret }, {}),
      'NotificationUnavailable',
      false,
    );
    assert.match(refused.message, /ECONNREFUSED/);
    const silent = createServer(() => undefined);
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    try {
      const slowUrl = `http://127.0.0.1:${(silent.address() as AddressInfo).port}/`;
      const error = await failure(
        sendReleaseWebhook({ url: slowUrl, secret, timeoutMs: 200 }, {}),
        'NotificationUnavailable',
        false,
      );
      assert.match(error.message, /no answer within 200 ms/);
    } finally {
      silent.closeAllConnections();
      await new Promise((resolve) => silent.close(resolve));
    }
  });

  it('names webhooks by origin only', () => {
    assert.equal(webhookLabel('https://hooks.slack.com/services/T0/B0/XXXX'), 'https://hooks.slack.com/…');
    assert.equal(webhookLabel('http://127.0.0.1:8080/'), 'http://127.0.0.1:8080');
    assert.equal(webhookLabel('not a url'), '(invalid URL)');
  });
});
