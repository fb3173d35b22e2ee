// mash's notify: a release on the real dev server ends with an email (through nodemailer to a
// real SMTP server on loopback, test/support/smtp-sink.ts) and a signed webhook POST (to a
// real HTTP receiver), on success and on failure.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { startReleaseHarness, type ReleaseHarness } from '../support/release-harness.js';
import { REPLAY_OPTIONS, replayAndRecord } from '../support/replay-history.js';
import { startSmtpSink, type SmtpSink } from '../support/smtp-sink.js';
import {
  startWebhookReceiver,
  type ReceivedWebhook,
  type WebhookReceiver,
} from '../support/webhook-receiver.js';
import { readMail } from '../support/mime-parts.js';
import { createNotifier } from '../../activities/common/notify/notifier.js';
import { verifyWebhookSignature } from '../../activities/common/notify/webhook.js';
import { Worker } from '@temporalio/worker';

const SECRET = 'webhook-secret-for-tests-0123456789';

describe('release notifications', () => {
  let h: ReleaseHarness;
  let sink: SmtpSink;
  let receiver: WebhookReceiver;
  let hooks: ReceivedWebhook[];

  before(async () => {
    sink = await startSmtpSink();
    receiver = await startWebhookReceiver();
    hooks = receiver.received;
    h = await startReleaseHarness('notify', {
      notifier: createNotifier({
        smtp: { host: sink.host, port: sink.port, from: 'imagecast@test.invalid' },
        webhooks: [{ url: receiver.url('/hooks/release'), secret: SECRET }],
        webUiUrl: 'http://ui.test.invalid',
      }),
    });
  });
  after(async () => {
    await h?.stop();
    await sink?.close();
    await receiver?.close();
  });

  it('emails the step table and posts a signed webhook when a release succeeds, and when it fails', async () => {
    await h.publish('1');
    const job = h.job({ notify: true, notification_email: 'releases@example.com', last_service: 'create' });
    const { releaseId } = await h.client.startRelease(job);
    const done = await h.client.waitForRelease(releaseId, { pollIntervalMs: 200 });
    assert.equal(done.state, 'succeeded', done.error);
    assert.match(done.notification ?? '', /^sent to releases@example.com, /);

    assert.equal(sink.messages.length, 1);
    const mail = readMail(sink.messages[0]!.data);
    assert.deepEqual(sink.messages[0]!.to, ['releases@example.com']);
    assert.match(mail.subject, new RegExp(`succeeded: ${done.imageName}`));
    assert.match(mail.text, /upload\s+succeeded/);
    assert.match(mail.text, /region-1\s+img-[0-9a-f]+\s+notify-v/);
    assert.match(mail.text, new RegExp(`http://ui.test.invalid/namespaces/default/workflows/${encodeURIComponent(releaseId)}`));

    assert.equal(hooks.length, 1);
    const hook = hooks[0]!;
    assert.ok(verifyWebhookSignature(SECRET, hook.timestamp, hook.body, hook.signature), 'signed with the secret');
    assert.ok(!verifyWebhookSignature('another-secret-0123456789', hook.timestamp, hook.body, hook.signature));
    const body = JSON.parse(hook.body) as { event: string; releaseId: string; state: string; images: unknown[] };
    assert.deepEqual([body.event, body.releaseId, body.state, body.images.length], ['release.finished', releaseId, 'succeeded', 1]);

    // The notifying workflow replays deterministically from its real history.
    const history = await h.client.temporal.workflow.getHandle(releaseId).fetchHistory();
    await Worker.runReplayHistory(REPLAY_OPTIONS, history, releaseId);

    // A failed release notifies too, with the error.
    await h.publish('2', { corruptChecksum: true });
    const failing = await h.client.startRelease(h.job({ notify: true, notification_email: 'releases@example.com', cloud_image_name: 'notify-broken-{date}-b{release}' }));
    const failed = await h.client.waitForRelease(failing.releaseId, { pollIntervalMs: 200 });
    assert.equal(failed.state, 'failed');
    assert.equal(sink.messages.length, 2);
    const failMail = readMail(sink.messages[1]!.data);
    assert.match(failMail.subject, /failed: /);
    assert.match(failMail.text, /its sha256 is [0-9a-f]{64}, but its checksum file says/);
    assert.equal(JSON.parse(hooks[1]!.body).state, 'failed');

    // A job without notify sends nothing.
    await h.publish('3');
    const quiet = await h.client.startRelease(h.job({ cloud_image_name: 'notify-quiet-{date}-b{release}', last_service: 'upload' }));
    assert.equal((await h.client.waitForRelease(quiet.releaseId, { pollIntervalMs: 200 })).state, 'succeeded');
    assert.equal(sink.messages.length, 2);
    assert.equal(hooks.length, 2);
  });

  it('tells people when a release blocks, reminds every block_reminder, and tells the end', async () => {
    const closed = join(h.localDataDir, 'test', 'region-3', 'CLOSED');
    mkdirSync(dirname(closed), { recursive: true });
    writeFileSync(closed, 'region quota reached');
    const mails = sink.messages.length;
    const first = hooks.length;
    await h.publish('4');
    const { releaseId } = await h.client.startRelease(
      h.job({
        notify: true,
        notification_email: 'releases@example.com',
        cloud_image_name: 'notify-blocked-{date}-b{release}',
        additional_regions: ['region-2', 'region-3'],
        last_service: 'replicate',
        block_reminder: 2,
      }),
    );
    const blocked = await h.client.waitForRelease(releaseId, { pollIntervalMs: 200 });
    assert.equal(blocked.state, 'blocked', blocked.error);
    // The block, then at least one reminder 2 s later.
    // Email and webhooks are delivered independently: wait for both channels.
    for (let i = 0; i < 150 && (hooks.length < first + 2 || sink.messages.length < mails + 2); i++)
      await new Promise((r) => setTimeout(r, 100));
    const told = hooks.slice(first).map((hook) => JSON.parse(hook.body) as { event: string; state: string; blocked: { regions: Array<{ region: string; reason: string }>; resolve: string[]; reminders?: number } | null });
    assert.ok(told.length >= 2, `hooks: ${told.length}`);
    assert.deepEqual([told[0]!.event, told[0]!.state], ['release.blocked', 'blocked']);
    assert.deepEqual(told[0]!.blocked?.regions.map((r) => r.region), ['region-3']);
    assert.match(told[0]!.blocked!.regions[0]!.reason, /region quota reached/);
    assert.ok(told[0]!.blocked!.resolve.includes(`imagecast job resume ${releaseId} --skip region-3`));
    assert.equal(told[1]!.blocked?.reminders, 1);
    const mail = readMail(sink.messages[mails]!.data);
    assert.match(mail.subject, new RegExp(`blocked: ${blocked.imageName}`));
    assert.match(mail.text, /Blocked in replicate since .*:\r?\n\s+region\s+why\r?\n\s+region-3\s+local region region-3 of test refuses copies: region quota reached/);
    assert.match(mail.text, new RegExp(`imagecast job abort ${releaseId}`));
    assert.match(readMail(sink.messages[mails + 1]!.data).subject, /blocked: .* \(reminder 1\)$/);

    rmSync(closed);
    await h.client.resumeRelease(releaseId, { by: 'alice' });
    const done = await h.client.waitForRelease(releaseId, { pollIntervalMs: 200 });
    assert.equal(done.state, 'succeeded', done.error);
    const last = JSON.parse(hooks.at(-1)!.body) as { event: string; state: string; blocked: unknown };
    assert.deepEqual([last.event, last.state, last.blocked], ['release.finished', 'succeeded', null]);
    await replayAndRecord(h.client.temporal, releaseId, 'release-local-blocked-notify');
  });
});
