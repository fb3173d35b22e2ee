import type { ReleaseStatus } from '../../../workflows/release-status.js';
import type { RevokeNotice } from '../../../schemas/revoke.js';
import { channelKey, deliverOnce, type ChannelOutcome, type NotifyChannel } from './delivery-memory.js';
import { sendReleaseEmail } from './email.js';
import { notificationRefused } from './failures.js';
import { NOTIFY_ENV, type NotifyConfig, type WebhookTarget } from './notify-config.js';
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
      const to = [...new Set(emails.map((e) => e.trim()).filter(Boolean))];
      const smtp = config.smtp;
      const outcomes = await deliverOnce([
        ...(to.length > 0
          ? [
              {
                key: channelKey({ kind: 'email' }),
                send: async (): Promise<ChannelOutcome> => {
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
                },
              },
            ]
          : []),
        ...(config.webhooks ?? []).map((hook) => webhookChannel(hook, message.json)),
      ]);
      return resultOf(outcomes);
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

/** A signed POST of `body` to one webhook, as a channel of deliverOnce. */
export function webhookChannel(
  hook: WebhookTarget,
  body: Parameters<typeof sendReleaseWebhook>[1],
): NotifyChannel {
  return {
    key: channelKey({ kind: 'webhook', url: hook.url }),
    send: async () => {
      await sendReleaseWebhook(hook, body);
      return { kind: 'webhook', label: webhookLabel(hook.url) };
    },
  };
}
