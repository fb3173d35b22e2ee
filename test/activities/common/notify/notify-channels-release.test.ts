// Notification channels are independent in a real release (real Temporal, real SMTP on
// loopback, a real HTTP receiver): a webhook that is down for a moment is retried without
// emailing people twice, and a worker without SMTP still calls its webhooks.
import { after, before, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { startReleaseHarness, type ReleaseHarness } from '../../../support/release-harness.js';
import { startSmtpSink, type SmtpSink } from '../../../support/smtp-sink.js';
import { createNotifier, type NotifyConfig } from '../../../../activities/common/notify/notifier.js';
import type { ReleaseNotifier } from '../../../../activities/common/notify/notifier.js';

const SECRET = 'webhook-secret-for-tests-0123456789';

describe('release notification channels', () => {
  let h: ReleaseHarness;
  let sink: SmtpSink;
  let receiver: Server;
  let hookUrl: string;
  /** Status codes the receiver answers, one per request; 204 once they run out. */
  let answers: number[];
  let hookCalls: number;
  /** Which notifier config the worker uses for the next release (set per test). */
  let current: NotifyConfig;

  before(async () => {
    sink = await startSmtpSink();
    receiver = createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        hookCalls += 1;
        res.writeHead(answers.shift() ?? 204).end();
      });
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    hookUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hooks/release`;
    // The worker is started once; each call builds the notifier from the config the test chose.
    const notifier: ReleaseNotifier = {
      notifyReleaseFinished: (input) => createNotifier(current).notifyReleaseFinished(input),
    };
    h = await startReleaseHarness('notifych', { notifier });
  });
  after(async () => {
    await h?.stop();
    await sink?.close();
    await new Promise((resolve) => receiver?.close(resolve));
  });
  beforeEach(() => {
    sink.messages.length = 0;
    answers = [];
    hookCalls = 0;
  });

  it('retries only the webhook that was down: the email goes out once', async () => {
    current = {
      smtp: { host: sink.host, port: sink.port, from: 'imagecast@test.invalid' },
      webhooks: [{ url: hookUrl, secret: SECRET }],
    };
    answers = [503];
    await h.publish('1');
    const job = h.job({ notify: true, notification_email: 'releases@example.com', last_service: 'upload' });
    const { releaseId } = await h.client.startRelease(job);
    const done = await h.client.waitForRelease(releaseId, { pollIntervalMs: 200 });
    assert.equal(done.state, 'succeeded', done.error);
    assert.equal(hookCalls, 2, 'the webhook was called again after its 503');
    assert.equal(sink.messages.length, 1, 'the retry did not email again');
    assert.equal(done.notification, `sent to releases@example.com, ${new URL(hookUrl).origin}/…`);
  });

  it('calls the webhook when the worker has no SMTP server, and the status says the email was not sent', async () => {
    current = { webhooks: [{ url: hookUrl, secret: SECRET }] };
    await h.publish('2');
    const job = h.job({
      notify: true,
      notification_email: 'releases@example.com',
      last_service: 'upload',
      cloud_image_name: 'notifych-nosmtp-{date}-b{release}',
    });
    const { releaseId } = await h.client.startRelease(job);
    const done = await h.client.waitForRelease(releaseId, { pollIntervalMs: 200 });
    assert.equal(done.state, 'succeeded', done.error);
    assert.equal(hookCalls, 1);
    assert.match(
      done.notification ?? '',
      /^not sent: email to releases@example\.com: this worker has no SMTP server \(set IMAGECAST_SMTP_HOST\) \(already sent: webhook http:\/\/127\.0\.0\.1:\d+\/…\)$/,
    );
  });
});
