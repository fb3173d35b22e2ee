import type { ApplicationFailure } from '@temporalio/common';
import type { ReleaseStatus } from '../../../workflows/release-status.js';
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
 * signed POST to every configured webhook, all at once. If any fails, it throws after the
 * others are done, naming what failed and what already went out: retryable if any failure
 * is, so a retry re-sends everything (receivers may see a duplicate; webhook bodies carry
 * the releaseId to de-duplicate on), NotificationRefused if none can succeed by retrying.
 */
export function createNotifier(config: NotifyConfig): ReleaseNotifier {
  return {
    async notifyReleaseFinished({ status, emails }) {
      const to = [...new Set(emails.map((e) => e.trim()).filter(Boolean))];
      const smtp = config.smtp;
      if (to.length > 0 && !smtp) {
        // Checked before sending anything: this is worker configuration, and no retry will fix it.
        throw notificationRefused(
          `release ${status.releaseId} asks for email to ${to.join(', ')}, but this worker has no SMTP server: set ${NOTIFY_ENV.smtpHost}`,
        );
      }
      const link = config.webUiUrl
        ? releaseWebUiLink(config.webUiUrl, config.namespace ?? 'default', status.releaseId)
        : undefined;
      const message = releaseMessage(status, link);
      const result: NotifyReleaseResult = { emailed: [], rejected: [], webhooks: [] };
      const sent: string[] = [];
      const failures: ApplicationFailure[] = [];
      const attempt = async (send: () => Promise<string>) => {
        try {
          sent.push(await send());
        } catch (error) {
          failures.push(asFailure(error));
        }
      };

      await Promise.all([
        ...(smtp && to.length > 0
          ? [
              attempt(async () => {
                const { accepted, rejected } = await sendReleaseEmail(smtp, to, message, {
                  'X-Imagecast-Release': status.releaseId,
                  // RFC 3834: vacation responders and the like must not answer a robot.
                  'Auto-Submitted': 'auto-generated',
                });
                Object.assign(result, { emailed: accepted, rejected });
                return `email to ${accepted.join(', ')}`;
              }),
            ]
          : []),
        ...(config.webhooks ?? []).map((hook) =>
          attempt(async () => {
            await sendReleaseWebhook(hook, message.json);
            result.webhooks.push(webhookLabel(hook.url));
            return `webhook ${webhookLabel(hook.url)}`;
          }),
        ),
      ]);

      if (failures.length === 0) return result;
      const summary =
        failures.map((f) => f.message).join('; ') +
        (sent.length ? ` (already sent: ${sent.join('; ')})` : '');
      throw failures.some((f) => !f.nonRetryable)
        ? notificationUnavailable(summary)
        : notificationRefused(summary);
    },
  };
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
