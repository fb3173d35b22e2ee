import { after, before, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ApplicationFailure } from '@temporalio/common';
import { createNotifier, type NotifyConfig } from '../../../../activities/common/notify/notifier.js';
import { verifyWebhookSignature } from '../../../../activities/common/notify/webhook.js';
import { startSmtpSink, type SmtpSink } from '../../../support/smtp-sink.js';
import { readMail } from '../../../support/mime-parts.js';
import { failedRelease } from '../../../support/release-status-fixture.js';

const secret = 'webhook-secret-0123456789';
let sink: SmtpSink;
let receiver: Server;
let hookUrl: string;
let bodies: Array<{ raw: string; timestamp: string; signature: string }>;
let hookStatus: number;

before(async () => {
  sink = await startSmtpSink();
  receiver = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const header = (name: string) => String(req.headers[name]);
      bodies.push({
        raw: Buffer.concat(chunks).toString(),
        timestamp: header('x-imagecast-timestamp'),
        signature: header('x-imagecast-signature'),
      });
      res.writeHead(hookStatus).end();
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  hookUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/release`;
});
after(async () => {
  await sink.close();
  await new Promise((resolve) => receiver.close(resolve));
});
beforeEach(() => {
  sink.messages.length = 0;
  bodies = [];
  hookStatus = 200;
});

function config(overrides: Partial<NotifyConfig> = {}): NotifyConfig {
  return {
    smtp: { host: sink.host, port: sink.port, from: 'imagecast@build.example', timeoutMs: 5_000 },
    webhooks: [{ url: hookUrl, secret }],
    webUiUrl: 'http://ui.example/',
    namespace: 'releases',
    ...overrides,
  };
}

describe('release notifier', () => {
  it('emails the people the job names and calls every webhook, both linking to the release', async () => {
    const result = await createNotifier(config()).notifyReleaseFinished({
      status: failedRelease(),
      emails: ['releases@example.com', ' releases@example.com '],
    });
    const hookOrigin = new URL(hookUrl).origin;
    assert.deepEqual(result, {
      emailed: ['releases@example.com'],
      rejected: [],
      webhooks: [`${hookOrigin}/…`],
    });
    const link = 'http://ui.example/namespaces/releases/workflows/release-demo-20250102';

    const mail = readMail(sink.messages[0]?.data ?? '');
    assert.equal(mail.subject, '[imagecast] failed: demo-v20250102 (ec2/prod)');
    assert.equal(mail.headers.get('x-imagecast-release'), 'release-demo-20250102');
    assert.equal(mail.headers.get('auto-submitted'), 'auto-generated');
    assert.match(mail.text, new RegExp(`Web UI: ${link}`));

    const [hook] = bodies;
    assert.ok(hook);
    assert.ok(verifyWebhookSignature(secret, hook.timestamp, hook.raw, hook.signature));
    const body = JSON.parse(hook.raw) as Record<string, unknown>;
    assert.equal(body.state, 'failed');
    assert.equal(body.webUi, link);
  });

  it('calls only the webhooks when the job asks for no email', async () => {
    const result = await createNotifier(config({ smtp: undefined })).notifyReleaseFinished({
      status: failedRelease(),
      emails: [],
    });
    assert.deepEqual(result.emailed, []);
    assert.equal(bodies.length, 1);
  });

  it('still calls the webhooks when email is asked for but no SMTP server is set, and reports the email as not sent', async () => {
    await assert.rejects(
      createNotifier(config({ smtp: undefined })).notifyReleaseFinished({
        status: failedRelease(),
        emails: ['a@example.com'],
      }),
      (e: unknown) =>
        e instanceof ApplicationFailure &&
        e.type === 'NotificationRefused' &&
        e.nonRetryable &&
        /email to a@example\.com: this worker has no SMTP server \(set IMAGECAST_SMTP_HOST\)/.test(e.message) &&
        new RegExp(`already sent: webhook ${new URL(hookUrl).origin}/…`).test(e.message),
    );
    assert.equal(bodies.length, 1);
    assert.ok(verifyWebhookSignature(secret, bodies[0]!.timestamp, bodies[0]!.raw, bodies[0]!.signature));
  });

  it('still calls the webhooks when the SMTP server is down, and fails retryably naming it', async () => {
    sink.unavailable = true;
    try {
      await assert.rejects(
        createNotifier(config()).notifyReleaseFinished({ status: failedRelease(), emails: ['ops@example.com'] }),
        (e: unknown) =>
          e instanceof ApplicationFailure &&
          e.type === 'NotificationUnavailable' &&
          !e.nonRetryable &&
          new RegExp(`SMTP ${sink.host}:${sink.port} did not take the email`).test(e.message) &&
          /already sent: webhook /.test(e.message),
      );
    } finally {
      sink.unavailable = false;
    }
    assert.equal(sink.messages.length, 0);
    assert.equal(bodies.length, 1);
  });

  it('still emails when a webhook refuses, and fails for good naming the webhook', async () => {
    hookStatus = 403;
    await assert.rejects(
      createNotifier(config()).notifyReleaseFinished({ status: failedRelease(), emails: ['ops@example.com'] }),
      (e: unknown) =>
        e instanceof ApplicationFailure &&
        e.type === 'NotificationRefused' &&
        /answered 403/.test(e.message) &&
        /already sent: email to ops@example\.com/.test(e.message),
    );
    assert.deepEqual(sink.messages[0]?.to, ['ops@example.com']);
  });

  it('sends what it can, then fails retryably naming the failure and what already went out', async () => {
    hookStatus = 503;
    await assert.rejects(
      createNotifier(config()).notifyReleaseFinished({
        status: failedRelease(),
        emails: ['ops@example.com'],
      }),
      (e: unknown) =>
        e instanceof ApplicationFailure &&
        e.type === 'NotificationUnavailable' &&
        !e.nonRetryable &&
        /answered 503/.test(e.message) &&
        /already sent: email to ops@example\.com/.test(e.message),
    );
    assert.equal(sink.messages.length, 1);
  });

  it('fails for good when every failure is permanent', async () => {
    hookStatus = 410;
    sink.rejectRecipients.add('gone@example.com');
    try {
      await assert.rejects(
        createNotifier(config()).notifyReleaseFinished({
          status: failedRelease(),
          emails: ['gone@example.com'],
        }),
        (e: unknown) => e instanceof ApplicationFailure && e.type === 'NotificationRefused' && e.nonRetryable,
      );
    } finally {
      sink.rejectRecipients.clear();
    }
  });
});
