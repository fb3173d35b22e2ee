import { hostname } from 'node:os';
import { z } from 'zod';
import type { SmtpSettings } from './email.js';

export interface WebhookTarget {
  url: string;
  secret: string;
}

/** Where release notifications go. Everything optional: a worker without it sends none. */
export interface NotifyConfig {
  smtp?: SmtpSettings;
  webhooks?: WebhookTarget[];
  /** The Temporal Web UI's base URL; messages link to the release there. */
  webUiUrl?: string;
  /** The Temporal namespace, for the Web UI link; default "default". */
  namespace?: string;
}

/** A bad notification setting; the message names the variable, never its value. */
export class NotifyConfigError extends Error {
  override readonly name = 'NotifyConfigError';
}

export const NOTIFY_ENV = {
  smtpHost: 'IMAGECAST_SMTP_HOST',
  smtpPort: 'IMAGECAST_SMTP_PORT',
  smtpSecure: 'IMAGECAST_SMTP_SECURE',
  smtpUser: 'IMAGECAST_SMTP_USER',
  smtpPassword: 'IMAGECAST_SMTP_PASSWORD',
  smtpFrom: 'IMAGECAST_SMTP_FROM',
  webhookUrls: 'IMAGECAST_WEBHOOK_URLS',
  webhookSecret: 'IMAGECAST_WEBHOOK_SECRET',
  uiUrl: 'IMAGECAST_UI_URL',
  namespace: 'IMAGECAST_TEMPORAL_NAMESPACE',
} as const;

const SECRETS = new Set<string>([NOTIFY_ENV.smtpPassword, NOTIFY_ENV.webhookSecret]);

const httpUrl = z.url({ protocol: /^https?$/, error: 'expected an http(s) URL' });
const port = z
  .string()
  .regex(/^\d{1,5}$/, 'expected a port number')
  .transform(Number)
  .refine((n) => n >= 1 && n <= 65535, 'expected a port number from 1 to 65535');
const flag = z
  .string()
  .transform((v) => v.toLowerCase())
  .pipe(z.enum(['true', 'false', '1', '0', 'yes', 'no'], { error: 'expected true or false' }))
  .transform((v) => v === 'true' || v === '1' || v === 'yes');
const urlList = z
  .string()
  .transform((v) =>
    v
      .split(',')
      .map((u) => u.trim())
      .filter(Boolean),
  )
  .pipe(z.array(httpUrl));

const envSchema = z.object({
  IMAGECAST_SMTP_HOST: z.string().optional(),
  IMAGECAST_SMTP_PORT: port.optional(),
  IMAGECAST_SMTP_SECURE: flag.optional(),
  IMAGECAST_SMTP_USER: z.string().optional(),
  IMAGECAST_SMTP_PASSWORD: z.string().optional(),
  IMAGECAST_SMTP_FROM: z.string().optional(),
  IMAGECAST_WEBHOOK_URLS: urlList.optional(),
  // Short secrets can be guessed offline from one signed request.
  IMAGECAST_WEBHOOK_SECRET: z.string().min(16, 'expected at least 16 characters').optional(),
  IMAGECAST_UI_URL: httpUrl.optional(),
  IMAGECAST_TEMPORAL_NAMESPACE: z.string().optional(),
});

/**
 * Settings that only make sense together. Checked on the raw variables, beside the schema
 * rather than in it, so one run reports every problem (zod skips refinements once a field fails).
 */
function missingCompanions(env: Record<string, string>): string[] {
  const problems: string[] = [];
  const missing = (variable: string, because: string) => problems.push(`${variable}: must be set ${because}`);
  if (env[NOTIFY_ENV.webhookUrls]?.replace(/[\s,]/g, '') && !env[NOTIFY_ENV.webhookSecret]) {
    missing(NOTIFY_ENV.webhookSecret, `when ${NOTIFY_ENV.webhookUrls} is (webhooks are signed)`);
  }
  if (env[NOTIFY_ENV.smtpUser] && env[NOTIFY_ENV.smtpPassword] === undefined) {
    missing(NOTIFY_ENV.smtpPassword, `when ${NOTIFY_ENV.smtpUser} is`);
  }
  if (!env[NOTIFY_ENV.smtpHost] && (env[NOTIFY_ENV.smtpUser] || env[NOTIFY_ENV.smtpPort])) {
    missing(NOTIFY_ENV.smtpHost, 'when other IMAGECAST_SMTP_ settings are');
  }
  return problems;
}

/**
 * Reads the notification settings from the environment (see NOTIFY_ENV). Empty variables
 * count as unset. The port defaults to 25, TLS-from-the-start to on for port 465 only,
 * the From address to imagecast@<this host>.
 */
export function notifyConfigFromEnv(
  env: Record<string, string | undefined>,
  host: string = hostname(),
): NotifyConfig {
  const present: Record<string, string> = Object.fromEntries(
    Object.values(NOTIFY_ENV).flatMap((name) => {
      // Secrets are taken byte for byte: a trimmed password or key would silently be another one.
      const value = SECRETS.has(name) ? env[name] : env[name]?.trim();
      return value ? [[name, value]] : [];
    }),
  );
  const parsed = envSchema.safeParse(present);
  const problems = [
    ...(parsed.error?.issues.map((i) => `${formatPath(i.path)}: ${i.message}`) ?? []),
    ...missingCompanions(present),
  ];
  if (!parsed.success || problems.length)
    throw new NotifyConfigError(`notification settings: ${problems.join('; ')}`);
  const e = parsed.data;
  const config: NotifyConfig = {};
  if (e.IMAGECAST_SMTP_HOST) {
    const smtpPort = e.IMAGECAST_SMTP_PORT ?? 25;
    config.smtp = {
      host: e.IMAGECAST_SMTP_HOST,
      port: smtpPort,
      secure: e.IMAGECAST_SMTP_SECURE ?? smtpPort === 465,
      user: e.IMAGECAST_SMTP_USER,
      password: e.IMAGECAST_SMTP_PASSWORD,
      from: e.IMAGECAST_SMTP_FROM ?? `imagecast@${host}`,
    };
  }
  const secret = e.IMAGECAST_WEBHOOK_SECRET ?? '';
  if (e.IMAGECAST_WEBHOOK_URLS?.length)
    config.webhooks = e.IMAGECAST_WEBHOOK_URLS.map((url) => ({ url, secret }));
  if (e.IMAGECAST_UI_URL) config.webUiUrl = e.IMAGECAST_UI_URL;
  if (e.IMAGECAST_TEMPORAL_NAMESPACE) config.namespace = e.IMAGECAST_TEMPORAL_NAMESPACE;
  return config;
}

/** `IMAGECAST_WEBHOOK_URLS[1]` for the second URL in the list. */
function formatPath(path: PropertyKey[]): string {
  const [variable, ...rest] = path;
  return String(variable) + rest.map((p) => `[${String(p)}]`).join('');
}
