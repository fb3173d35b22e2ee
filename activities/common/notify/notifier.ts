import type { ApplicationFailure } from '@temporalio/common';
import type { ReleaseStatus } from '../../../workflows/release-status.js';
import type { RevokeNotice } from '../../../schemas/revoke.js';
import { channelKey, recallDeliveries, rememberDeliveries, type ChannelOutcome } from './delivery-memory.js';
import { sendReleaseEmail } from './email.js';
import { notificationRefused, notificationUnavailable } from './failures.js';
import { NOTIFY_ENV, type NotifyConfig } from './notify-config.js';
import { releaseMessage } from './release-message.js';
import { sendReleaseWebhook, webhookLabel } from './webhook.js';

export {
  notifyConfigFromEnv,
  NotifyConfigError,
  type NotifyConfig,
  type WebhookTarget,
} from './notify-config.js';

export interface NotifyReleaseInput {
  status: ReleaseStatus;
  /** The job's notification_email when it set `notify`; empty for webhooks only. */
  emails: string[];
  /** Set by revokeRelease: the status is the revoke's, told as `release.revoked`. */
  revoke?: RevokeNotice;
}

export interface NotifyReleaseResult {
  /** Recipients the SMTP server accepted. */
  emailed: string[];
  /** Recipients it refused while accepting others (a partly bad list is not worth failing over). */
  rejected: string[];
  /** Webhooks that answered 2xx, as webhookLabel shows them (their URLs may hold credentials). */
  webhooks: string[];
}

export interface ReleaseNotifier {
  notifyReleaseFinished(input: NotifyReleaseInput): Promise<NotifyReleaseResult>;
}

/**
 * Tells people and programs that a release ended: one email to `emails` (when given) and a
 * signed POST to every configured webhook, all at once. The channels are independent: one
 * that is missing (email asked for, no SMTP server) or fails never holds back the others.
 *
 * When any channel failed, it throws after the others are done, naming what failed and
 * what went out: retryable if any failure is (NotificationUnavailable), NotificationRefused
 * if none can succeed by retrying. Channels that were delivered or refused for good are
 * remembered in the heartbeat details, so a retry sends only the channels still owed.
 */
export function createNotifier(config: NotifyConfig): ReleaseNotifier {
  return {
    async notifyReleaseFinished({ status, emails, revoke }) {
      const link = config.webUiUrl
        ? releaseWebUiLink(config.webUiUrl, config.namespace ?? 'default', status.releaseId)
        : undefined;
      const message = releaseMessage(status, link, revoke);
      const memory = recallDeliveries();
      const transient: string[] = [];

      const deliver = async (key: string, send: () => Promise<ChannelOutcome>) => {
        if (memory.done[key]) return; // an earlier attempt delivered it, or was told no for good
        try {
          memory.done[key] = await send();
        } catch (error) {
          const failure = asFailure(error);
          if (!failure.nonRetryable) return void transient.push(failure.message);
          memory.done[key] = { kind: 'refused', message: failure.message };
        }
        rememberDeliveries(memory);
      };

      const to = [...new Set(emails.map((e) => e.trim()).filter(Boolean))];
      const smtp = config.smtp;
      await Promise.all([
        ...(to.length > 0
          ? [
              deliver(channelKey({ kind: 'email' }), async () => {
                if (!smtp) {
                  // Worker configuration: no retry will fix it, and it must not stop the webhooks.
                  throw notificationRefused(
                    `email to ${to.join(', ')}: this worker has no SMTP server (set ${NOTIFY_ENV.smtpHost})`,
                  );
                }
                const { accepted, rejected } = await sendReleaseEmail(smtp, to, message, {
                  'X-Imagecast-Release': message.json.releaseId,
                  // RFC 3834: vacation responders and the like must not answer a robot.
                  'Auto-Submitted': 'auto-generated',
                });
                return { kind: 'email', accepted, rejected };
              }),
            ]
          : []),
        ...(config.webhooks ?? []).map((hook) =>
          deliver(channelKey({ kind: 'webhook', url: hook.url }), async () => {
            await sendReleaseWebhook(hook, message.json);
            return { kind: 'webhook', label: webhookLabel(hook.url) };
          }),
        ),
      ]);

      const outcomes = Object.values(memory.done);
      const refused = outcomes.flatMap((o) => (o.kind === 'refused' ? [o.message] : []));
      if (transient.length === 0 && refused.length === 0) return resultOf(outcomes);
      const sent = outcomes.flatMap((o) =>
        o.kind === 'email' ? [`email to ${o.accepted.join(', ')}`] : o.kind === 'webhook' ? [`webhook ${o.label}`] : [],
      );
      const summary = [...transient, ...refused].join('; ') + (sent.length ? ` (already sent: ${sent.join('; ')})` : '');
      throw transient.length ? notificationUnavailable(summary) : notificationRefused(summary);
    },
  };
}

function resultOf(outcomes: ChannelOutcome[]): NotifyReleaseResult {
  const result: NotifyReleaseResult = { emailed: [], rejected: [], webhooks: [] };
  for (const o of outcomes) {
    if (o.kind === 'email') Object.assign(result, { emailed: o.accepted, rejected: o.rejected });
    if (o.kind === 'webhook') result.webhooks.push(o.label);
  }
  return result;
}

/** The release's page in the Temporal Web UI (the workflow id is the release id). */
export function releaseWebUiLink(webUiUrl: string, namespace: string, releaseId: string): string {
  return `${webUiUrl.replace(/\/+$/, '')}/namespaces/${encodeURIComponent(namespace)}/workflows/${encodeURIComponent(releaseId)}`;
}

/** Our senders throw ApplicationFailures; anything else is unexpected and counts as transient, bounded by the retry policy. */
function asFailure(error: unknown): ApplicationFailure {
  if (error && typeof error === 'object' && 'nonRetryable' in error) return error as ApplicationFailure;
  return notificationUnavailable(error instanceof Error ? error.message : String(error));
}
