import type { ApplicationFailure } from '@temporalio/common';
import nodemailer from 'nodemailer';
import { notificationRefused, notificationUnavailable } from './failures.js';

/** Where release emails go out. Without `user`, mail is sent unauthenticated (a relay that trusts our address). */
export interface SmtpSettings {
  host: string;
  port: number;
  /** TLS from the first byte (port 465). Otherwise STARTTLS is used when the server offers it. */
  secure?: boolean;
  user?: string;
  password?: string;
  /** The From address, e.g. `imagecast@build.example.com` or `Imagecast <imagecast@example.com>`. */
  from: string;
  /** Limit for connecting, the greeting and each reply; default 30 s. */
  timeoutMs?: number;
}

export interface EmailMessage {
  subject: string;
  text: string;
  html: string;
}

/** Recipients the server took and those it refused (when it refused only some). */
export interface EmailResult {
  accepted: string[];
  rejected: string[];
}

const DEFAULT_TIMEOUT_MS = 30_000;

/**
 * Sends one message to all of `to` over SMTP. Resolves when the server accepted it for at
 * least one recipient; the result names any it refused. Throws NotificationRefused
 * (non-retryable) on a permanent 5xx reply and NotificationUnavailable (retryable) on
 * everything that may pass later: refused connections, timeouts, 4xx replies.
 */
export async function sendReleaseEmail(
  settings: SmtpSettings,
  to: string[],
  message: EmailMessage,
  headers: Record<string, string> = {},
): Promise<EmailResult> {
  const timeout = settings.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const transport = nodemailer.createTransport({
    host: settings.host,
    port: settings.port,
    secure: settings.secure ?? false,
    auth: settings.user ? { user: settings.user, pass: settings.password ?? '' } : undefined,
    connectionTimeout: timeout,
    greetingTimeout: timeout,
    socketTimeout: timeout,
    // Our messages carry no attachments: nodemailer must never read files or URLs for us.
    disableFileAccess: true,
    disableUrlAccess: true,
    logger: false,
  });
  try {
    const info = await transport.sendMail({ from: settings.from, to, headers, ...message });
    return { accepted: info.accepted.map(address), rejected: info.rejected.map(address) };
  } catch (error) {
    throw classifySmtpError(error, settings);
  } finally {
    transport.close();
  }
}

/**
 * Maps a nodemailer error to our failure types. 5xx replies are permanent by RFC 5321
 * (unknown recipient, bad credentials, policy), so retrying only repeats them; 4xx replies
 * and network trouble are transient. The message never holds the password, in any encoding.
 */
export function classifySmtpError(error: unknown, settings: SmtpSettings): ApplicationFailure {
  const e = error as { code?: string; responseCode?: number; message?: string };
  const where = `SMTP ${settings.host}:${settings.port}`;
  const reason = scrub(e.message ?? String(error), settings);
  const code = e.responseCode;
  if (code !== undefined && code >= 500 && code < 600)
    return notificationRefused(`${where} refused the email: ${reason}`);
  if (code === undefined && (e.code === 'EENVELOPE' || e.code === 'EAUTH' || e.code === 'EMESSAGE')) {
    // Raised by nodemailer before asking the server (bad address, missing credentials): a retry sees the same input.
    return notificationRefused(`${where}: cannot send the email: ${reason}`);
  }
  return notificationUnavailable(`${where} did not take the email${e.code ? ` (${e.code})` : ''}: ${reason}`);
}

/** Removes the password, and the AUTH PLAIN/LOGIN encodings of it, should a server echo them back. */
function scrub(text: string, settings: SmtpSettings): string {
  const { password, user = '' } = settings;
  if (!password) return text;
  const forms = [
    password,
    Buffer.from(password).toString('base64'),
    Buffer.from(`\0${user}\0${password}`).toString('base64'),
  ];
  return forms.reduce((t, form) => t.split(form).join('[redacted]'), text);
}

function address(a: string | { address: string }): string {
  return typeof a === 'string' ? a : a.address;
}
