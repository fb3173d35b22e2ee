import { createHmac, timingSafeEqual } from 'node:crypto';
import { notificationRefused, notificationUnavailable } from './failures.js';
import { RELEASE_FINISHED_EVENT, type ReleaseEvent } from './release-message.js';

export interface WebhookSettings {
  url: string;
  /** Shared with the receiver, which uses it to check `x-imagecast-signature`. */
  secret: string;
  /** Limit for the whole request; default 10 s. */
  timeoutMs?: number;
}

const DEFAULT_TIMEOUT_MS = 10_000;
const SIGNATURE_PREFIX = 'sha256=';

/**
 * POSTs `body` as JSON, signed so the receiver can tell it came from us and is fresh:
 *
 *   x-imagecast-event:     the body's `event`: release.finished, release.blocked, release.revoked, imagelist.not_renewed
 *   x-imagecast-timestamp: <unix seconds when sent>
 *   x-imagecast-signature: sha256=<hex HMAC-SHA256(secret, "<timestamp>.<raw body>")>
 *
 * Signing the timestamp with the body stops a captured request being replayed later (the
 * receiver rejects stale timestamps; see verifyWebhookSignature). Receivers must verify the
 * raw bytes they received, before parsing the JSON.
 *
 * 2xx is success. 5xx, 408, 429, network errors and timeouts throw NotificationUnavailable
 * (retryable); any other answer (4xx, a redirect) throws NotificationRefused (non-retryable):
 * the receiver has said no, and asking again gets the same answer.
 */
export async function sendReleaseWebhook(
  settings: WebhookSettings,
  body: object & { event?: ReleaseEvent | string },
  now: () => number = Date.now,
): Promise<void> {
  const rawBody = JSON.stringify(body);
  const timestamp = String(Math.floor(now() / 1000));
  const target = webhookLabel(settings.url);
  const timeout = settings.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  let response: Response;
  try {
    response = await fetch(settings.url, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'x-imagecast-event': body.event ?? RELEASE_FINISHED_EVENT,
        'x-imagecast-timestamp': timestamp,
        'x-imagecast-signature': signWebhook(settings.secret, timestamp, rawBody),
      },
      body: rawBody,
      // A redirect would re-send (or drop) a signed body somewhere we were not told about.
      redirect: 'manual',
      signal: AbortSignal.timeout(timeout),
    });
  } catch (error) {
    const e = error as Error & { cause?: { code?: string; message?: string } };
    const reason =
      e.name === 'TimeoutError'
        ? `no answer within ${timeout} ms`
        : (e.cause?.code ?? e.cause?.message ?? e.message);
    throw notificationUnavailable(`webhook ${target} failed: ${reason}`);
  }
  if (response.ok) {
    await response.body?.cancel();
    return;
  }
  const said = `webhook ${target} answered ${response.status} ${response.statusText}${await excerpt(response)}`;
  const transient = response.status >= 500 || response.status === 408 || response.status === 429;
  throw transient ? notificationUnavailable(said) : notificationRefused(said);
}

/** The `x-imagecast-signature` value for a body sent at `timestamp` (unix seconds). */
export function signWebhook(secret: string, timestamp: string, rawBody: string | Buffer): string {
  const hmac = createHmac('sha256', secret).update(`${timestamp}.`).update(rawBody);
  return SIGNATURE_PREFIX + hmac.digest('hex');
}

/**
 * For receivers (and our tests): true when `signatureHeader` is our signature of
 * `<timestamp>.<rawBody>` under `secret`, and `timestamp` is within `toleranceSeconds` of
 * now. Compares in constant time so the check does not leak how much of a guess was right.
 */
export function verifyWebhookSignature(
  secret: string,
  timestamp: string | number,
  rawBody: string | Buffer,
  signatureHeader: string | undefined,
  toleranceSeconds = 300,
  nowSeconds = Math.floor(Date.now() / 1000),
): boolean {
  const ts = String(timestamp);
  if (!/^\d{1,12}$/.test(ts) || Math.abs(nowSeconds - Number(ts)) > toleranceSeconds) return false;
  if (!signatureHeader?.startsWith(SIGNATURE_PREFIX)) return false;
  const given = Buffer.from(signatureHeader.slice(SIGNATURE_PREFIX.length), 'hex');
  const expected = Buffer.from(signWebhook(secret, ts, rawBody).slice(SIGNATURE_PREFIX.length), 'hex');
  return given.length === expected.length && timingSafeEqual(given, expected);
}

/**
 * How a webhook is named in errors, logs and results: scheme, host and port only. Webhook
 * URLs often carry their own credential in the path or query (Slack, Teams), so the rest
 * never leaves this module.
 */
export function webhookLabel(url: string): string {
  try {
    const u = new URL(url);
    return u.pathname === '/' && !u.search ? u.origin : `${u.origin}/…`;
  } catch {
    return '(invalid URL)';
  }
}

/** The start of an error answer ("invalid signature"), trimmed to one short line. */
async function excerpt(response: Response): Promise<string> {
  const text = await response.text().catch(() => '');
  const line = text.replace(/\s+/g, ' ').trim().slice(0, 200);
  return line ? `: ${line}` : '';
}
