// Telling people that a signed image list could not be renewed: subscribers refuse it once
// it expires, so someone must act (renew the endorser certificate, fix the upload target)
// before then. The same channels as release notifications: every configured webhook, and
// email to the endorsers of the lists when the worker has an SMTP server.
import type { NotifyConfig } from './notify-config.js';
import { channelKey, deliverOnce, type ChannelOutcome } from './delivery-memory.js';
import { sendReleaseEmail } from './email.js';
import { releaseWebUiLink, webhookChannel } from './notifier.js';
import { escapeHtml } from './release-message.js';

/** The webhook event (and `x-imagecast-event` header) of a renewal run that left lists unrenewed. */
export const IMAGELIST_NOT_RENEWED_EVENT = 'imagelist.not_renewed';

/** A list the renewal run could not publish again, and why. */
export interface ListNotRenewed {
  identifier: string;
  title: string;
  /** Where subscribers fetch it (hv:uri). */
  uri: string;
  version: string;
  /** dc:date:expires of the copy subscribers have: after it they refuse the list. */
  expiresAt: string;
  endorserEmail: string;
  reason: string;
}

export interface NotifyNotRenewedInput {
  /** The renewal run (its workflow id), for the Web UI link. */
  runId: string;
  lists: ListNotRenewed[];
}

export interface NotRenewedNotified {
  emailed: string[];
  webhooks: string[];
  /**
   * Lists not renewed whose reason people were told by an earlier run: not repeated until the
   * list is published again or the reason changes (renewal-failures.ts).
   */
  alreadyNotified?: string[];
}

/** The webhook body. Stable: fields are only ever added. */
export interface ListsNotRenewedWebhookBody {
  event: typeof IMAGELIST_NOT_RENEWED_EVENT;
  runId: string;
  lists: ListNotRenewed[];
  webUi: string | null;
}

export function createImageListRenewalNotifier(config: NotifyConfig) {
  return {
    /**
     * One message naming every list not renewed and why: a POST to each webhook, an email to
     * the lists' endorsers (when SMTP is set up). As the release notifier does, a retry sends
     * only the channels still owed, and one failing channel never holds back another.
     */
    async notifyImageListsNotRenewed({ runId, lists }: NotifyNotRenewedInput): Promise<NotRenewedNotified> {
      const link = config.webUiUrl
        ? releaseWebUiLink(config.webUiUrl, config.namespace ?? 'default', runId)
        : undefined;
      const message = notRenewedMessage(runId, lists, link);
      const to = [...new Set(lists.map((l) => l.endorserEmail.trim()).filter(Boolean))];
      const smtp = config.smtp;
      const outcomes = await deliverOnce([
        ...(smtp && to.length > 0
          ? [
              {
                key: channelKey({ kind: 'email' }),
                send: async (): Promise<ChannelOutcome> => {
                  const { accepted, rejected } = await sendReleaseEmail(smtp, to, message, {
                    'X-Imagecast-Renewal': runId,
                    'Auto-Submitted': 'auto-generated',
                  });
                  return { kind: 'email', accepted, rejected };
                },
              },
            ]
          : []),
        ...(config.webhooks ?? []).map((hook) => webhookChannel(hook, message.json)),
      ]);
      return {
        emailed: outcomes.flatMap((o) => (o.kind === 'email' ? o.accepted : [])),
        webhooks: outcomes.flatMap((o) => (o.kind === 'webhook' ? [o.label] : [])),
      };
    },
  };
}

export type ImageListRenewalNotifier = ReturnType<typeof createImageListRenewalNotifier>;

/** Pure: the subject, text, HTML and webhook body for lists not renewed. */
export function notRenewedMessage(runId: string, lists: ListNotRenewed[], webUiLink?: string) {
  const first = lists[0];
  const subject =
    `[imagecast] image list not renewed: ${first ? JSON.stringify(first.title) : '?'}${lists.length > 1 ? ` and ${lists.length - 1} more` : ''}`.replace(
      /[\r\n]+/g,
      ' ',
    );
  const line = (l: ListNotRenewed) =>
    `${JSON.stringify(l.title)} (${l.identifier}, version ${l.version}, served at ${l.uri}) expires ${l.expiresAt}: ${l.reason}`;
  const text = [
    `The image list renewal ${runId} could not publish ${lists.length === 1 ? 'this list' : 'these lists'} again.`,
    'Subscribers refuse a list once it expires: fix the cause, then run `imagecast imagelist renew`.',
    '',
    ...lists.map((l) => `- ${line(l)}`),
    ...(webUiLink ? ['', webUiLink] : []),
  ].join('\n');
  const html = [
    `<p>The image list renewal <code>${escapeHtml(runId)}</code> could not publish these lists again. Subscribers refuse a list once it expires: fix the cause, then run <code>imagecast imagelist renew</code>.</p>`,
    `<ul>${lists.map((l) => `<li>${escapeHtml(line(l))}</li>`).join('')}</ul>`,
    ...(webUiLink ? [`<p><a href="${escapeHtml(webUiLink)}">${escapeHtml(webUiLink)}</a></p>`] : []),
  ].join('\n');
  const json: ListsNotRenewedWebhookBody = {
    event: IMAGELIST_NOT_RENEWED_EVENT,
    runId,
    lists,
    webUi: webUiLink ?? null,
  };
  return { subject, text, html, json };
}
