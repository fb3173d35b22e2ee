import { after, before, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ApplicationFailure } from '@temporalio/common';
import { freePort } from '../../../../infra/devstack/free-port.js';
import { sendReleaseEmail, type SmtpSettings } from '../../../../activities/common/notify/email.js';
import { releaseMessage } from '../../../../activities/common/notify/release-message.js';
import { startSmtpSink, type SmtpSink } from '../../../support/smtp-sink.js';
import { readMail } from '../../../support/mime-parts.js';
import { failedRelease, succeededRelease } from '../../../support/release-status-fixture.js';

const link = 'http://ui.example/namespaces/default/workflows/release-demo-20250102';
let sink: SmtpSink;
let smtp: SmtpSettings;

before(async () => {
  sink = await startSmtpSink();
  smtp = { host: sink.host, port: sink.port, from: 'imagecast@build.example', timeoutMs: 5_000 };
});
after(() => sink.close());
beforeEach(() => {
  sink.messages.length = 0;
  sink.rejectRecipients.clear();
  sink.unavailable = false;
});

/** Asserts `promise` rejects with our failure type, and returns it for further checks. */
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

describe('release email over SMTP', () => {
  it('delivers a succeeded release with its step table, images and Web UI link', async () => {
    const result = await sendReleaseEmail(
      smtp,
      ['releases@example.com', 'ops@example.com'],
      releaseMessage(succeededRelease(), link),
    );
    assert.deepEqual(result, { accepted: ['releases@example.com', 'ops@example.com'], rejected: [] });
    const [message] = sink.messages;
    assert.ok(message);
    assert.equal(message.from, 'imagecast@build.example');
    assert.deepEqual(message.to, ['releases@example.com', 'ops@example.com']);
    const mail = readMail(message.data);
    assert.equal(mail.subject, '[imagecast] succeeded: demo-v20250102 (ec2/prod)');
    assert.match(mail.text, /^ {2}upload +succeeded +3m 05s +snap-0abc$/m);
    assert.match(mail.text, /^ {2}eu-central-1 +ami-2222 +demo-v20250102$/m);
    assert.match(mail.text, new RegExp(`Web UI: ${link}`));
    assert.match(mail.html, new RegExp(`<a href="${link}">`));
  });

  it('delivers a failed release with the error and the failed step', async () => {
    await sendReleaseEmail(smtp, ['releases@example.com'], releaseMessage(failedRelease(), link));
    const mail = readMail(sink.messages[0]?.data ?? '');
    assert.equal(mail.subject, '[imagecast] failed: demo-v20250102 (ec2/prod)');
    assert.match(mail.text, /^Error: +ImageTestFailed: instance i-123 did not boot within 10m$/m);
    assert.match(mail.text, /^ {2}test +failed +10m 01s +ImageTestFailed/m);
  });

  it('sends escaped HTML when the image name and error hold markup', async () => {
    const status = failedRelease({
      imageName: 'demo-<script>x()</script>',
      error: '<script>alert("e")</script>',
    });
    await sendReleaseEmail(smtp, ['releases@example.com'], releaseMessage(status));
    const mail = readMail(sink.messages[0]?.data ?? '');
    assert.doesNotMatch(mail.html, /<script/);
    assert.match(mail.html, /demo-&lt;script&gt;x\(\)&lt;\/script&gt;/);
    assert.match(mail.html, /&lt;script&gt;alert\(&quot;e&quot;\)&lt;\/script&gt;/);
  });

  it('keeps a message that starts a line with a dot intact (dot-stuffing)', async () => {
    const message = { subject: 's', text: 'one\n.two\n.\nthree', html: '<p>x</p>' };
    await sendReleaseEmail(smtp, ['releases@example.com'], message);
    assert.equal(readMail(sink.messages[0]?.data ?? '').text.replace(/\r\n/g, '\n'), 'one\n.two\n.\nthree');
  });

  it('refuses, without retrying, a recipient the server rejects with 550', async () => {
    sink.rejectRecipients.add('nobody@example.com');
    const error = await failure(
      sendReleaseEmail(smtp, ['nobody@example.com'], releaseMessage(succeededRelease())),
      'NotificationRefused',
      true,
    );
    assert.match(error.message, /550/);
    assert.equal(sink.messages.length, 0);
  });

  it('still delivers to the others when the server rejects one of several recipients', async () => {
    sink.rejectRecipients.add('nobody@example.com');
    const result = await sendReleaseEmail(
      smtp,
      ['nobody@example.com', 'ops@example.com'],
      releaseMessage(succeededRelease()),
    );
    assert.deepEqual(result, { accepted: ['ops@example.com'], rejected: ['nobody@example.com'] });
    assert.deepEqual(sink.messages[0]?.to, ['ops@example.com']);
  });

  it('retries when the server is down (connection refused)', async () => {
    const error = await failure(
      sendReleaseEmail(
        { ...smtp, port: await freePort() },
        ['ops@example.com'],
        releaseMessage(succeededRelease()),
      ),
      'NotificationUnavailable',
      false,
    );
    assert.match(error.message, /ECONNREFUSED/);
  });

  it('retries when the server answers 421 (try again later)', async () => {
    sink.unavailable = true;
    const error = await failure(
      sendReleaseEmail(smtp, ['ops@example.com'], releaseMessage(succeededRelease())),
      'NotificationUnavailable',
      false,
    );
    assert.match(error.message, /421/);
  });

  it('authenticates, and never shows the password when the server refuses it', async () => {
    const guarded = await startSmtpSink({ credentials: { user: 'imagecast', password: 's3cret-Pa55' } });
    try {
      const settings = { ...smtp, host: guarded.host, port: guarded.port, user: 'imagecast' };
      await sendReleaseEmail(
        { ...settings, password: 's3cret-Pa55' },
        ['ops@example.com'],
        releaseMessage(succeededRelease()),
      );
      assert.equal(guarded.messages[0]?.user, 'imagecast');

      const error = await failure(
        sendReleaseEmail(
          { ...settings, password: 'wrong-Pa55word' },
          ['ops@example.com'],
          releaseMessage(succeededRelease()),
        ),
        'NotificationRefused',
        true,
      );
      assert.match(error.message, /535/);
      const everything = JSON.stringify({
        message: error.message,
        stack: error.stack,
        cause: String(error.cause),
      });
      assert.doesNotMatch(everything, /wrong-Pa55word|s3cret-Pa55/);
      assert.doesNotMatch(everything, new RegExp(Buffer.from('wrong-Pa55word').toString('base64')));
    } finally {
      await guarded.close();
    }
  });
});
