import type { ImageRef } from '../../provider.js';
import type { RevokeNotice } from '../../../schemas/revoke.js';
import {
  RELEASE_REVOKED_EVENT,
  revokeHeadline,
  revokeSections,
  revokeSubject,
  revokeWebhook,
  type RevokeWebhook,
} from './revoke-message.js';
import {
  testVerdict,
  type AccountRelease,
  type BlockedState,
  type ReleaseStatus,
  type StepStatus,
} from '../../../workflows/release-status.js';

/** The webhook event name; also sent as the `x-imagecast-event` header. */
export const RELEASE_FINISHED_EVENT = 'release.finished';
/** A release that blocked (and, once a day while it stays so, a reminder): it waits for a decision. */
export const RELEASE_BLOCKED_EVENT = 'release.blocked';
export { RELEASE_REVOKED_EVENT, type RevokeWebhook };
export type ReleaseEvent =
  typeof RELEASE_FINISHED_EVENT | typeof RELEASE_BLOCKED_EVENT | typeof RELEASE_REVOKED_EVENT;

/**
 * The event a status is told as. A blocked revoke is `release.blocked` like a blocked
 * release: receivers that page someone to decide need not know revokes apart.
 */
export function releaseEvent(status: ReleaseStatus, revoke?: RevokeNotice): ReleaseEvent {
  if (status.state === 'blocked') return RELEASE_BLOCKED_EVENT;
  return revoke ? RELEASE_REVOKED_EVENT : RELEASE_FINISHED_EVENT;
}

/** One step in the webhook body: every key always present (null when unknown), so receivers can rely on the shape. */
export interface WebhookStep {
  name: string;
  state: string;
  startedAt: string | null;
  finishedAt: string | null;
  durationSeconds: number | null;
  detail: string | null;
  produced: string[];
}

/** One image test in the webhook body; `error` and `skipped` are null unless they apply. */
export interface WebhookTest {
  name: string;
  passed: boolean;
  durationSeconds: number;
  error: string | null;
  skipped: string | null;
}

/** The webhook body. Stable: fields are only ever added, and absent values are null, never missing. */
export interface ReleaseWebhookBody {
  event: ReleaseEvent;
  /** The release; for a revoke, the revoked release (`revoke.revokeId` is the revoke's own id). */
  releaseId: string;
  state: ReleaseStatus['state'];
  cloud: string;
  account: string;
  imageName: string;
  images: ImageRef[];
  deprecated: ImageRef[];
  error: string | null;
  steps: WebhookStep[];
  /** One entry per child release when the job named several accounts; otherwise empty. */
  accounts: AccountRelease[];
  /** The test step's results in the order the tests ran; empty when the job had no tests. */
  tests: WebhookTest[];
  webUi: string | null;
  /** Set for `release.blocked`: which regions, why, until when, and the commands that resolve it. */
  blocked: BlockedState | null;
  /** Set when a revoke tells (`release.revoked`, or `release.blocked` while it is blocked): who, why, what changed. */
  revoke: RevokeWebhook | null;
}

export interface ReleaseMessage {
  subject: string;
  text: string;
  html: string;
  json: ReleaseWebhookBody;
}

/**
 * What people (email) and programs (webhook) are told when a release ends (or blocks), or
 * when a revoke does (`revoke` given: the status is the revoke's). Pure, so the same status
 * always gives the same message and tests need no server.
 */
export function releaseMessage(
  status: ReleaseStatus,
  webUiLink?: string,
  revoke?: RevokeNotice,
): ReleaseMessage {
  const reminder =
    status.state === 'blocked' && status.blocked?.reminders ? ` (reminder ${status.blocked.reminders})` : '';
  const about = revoke
    ? revokeSubject(status, revoke)
    : `${status.state}: ${status.imageName} (${status.cloud}/${status.account})`;
  // Subjects are one header line: a newline in a name must not start a new header.
  const subject = oneLine(`[imagecast] ${about}${reminder}`);
  const headline = oneLine(
    revoke ? revokeHeadline(status, revoke) : `Release ${status.releaseId} ${status.state}.`,
  );
  const htmlHeadline = revoke
    ? escapeHtml(headline)
    : `Release <code>${escapeHtml(status.releaseId)}</code> <strong>${escapeHtml(status.state)}</strong>.`;
  const sections = messageSections(status, revoke);
  return {
    subject,
    text: textMessage(status, headline, sections, webUiLink),
    html: htmlMessage(status, htmlHeadline, sections, webUiLink),
    json: webhookBody(status, webUiLink, revoke),
  };
}

/** A titled table; the text and HTML renderings are built from the same rows. */
interface Section {
  title: string;
  header: string[];
  rows: string[][];
}

function messageSections(status: ReleaseStatus, revoke?: RevokeNotice): Section[] {
  const imageRows = (images: ImageRef[]) =>
    images.map((i) => [i.region, i.imageId, i.imageName, ...(i.account ? [i.account] : [])]);
  const blocked = status.state === 'blocked' ? status.blocked : undefined;
  const sections: Section[] = [
    ...(blocked
      ? [
          {
            title: `Blocked in ${blocked.step} since ${blocked.since}`,
            header: ['region', 'why'],
            rows: blocked.regions.map((r) => [r.region, oneLine(r.reason)]),
          },
          {
            title: `Decide before ${blocked.until} (then: ${blocked.then}); resolve with one of`,
            header: ['command'],
            rows: blocked.resolve.map((command) => [command]),
          },
        ]
      : []),
    {
      title: 'Steps',
      header: ['step', 'state', 'duration', 'detail'],
      rows: status.steps.map((s) => [
        s.name,
        s.state,
        formatDuration(stepSeconds(s)),
        oneLine(s.detail ?? ''),
      ]),
    },
    // A revoke's images are the ones it withdrew and restored: its own tables say which is which.
    ...(revoke
      ? revokeSections(revoke)
      : [
          { title: 'Images', header: ['region', 'image id', 'name'], rows: imageRows(status.images) },
          {
            title: 'Deprecated images',
            header: ['region', 'image id', 'name'],
            rows: imageRows(status.deprecated),
          },
        ]),
  ];
  if (status.testResults?.length) {
    sections.push({
      title: 'Tests',
      header: ['test', 'result', 'duration', 'detail'],
      rows: status.testResults.map((t) => [
        t.name,
        testVerdict(t),
        formatDuration(Math.round(t.durationMs / 1000)),
        oneLine(t.skipped ?? t.error ?? ''),
      ]),
    });
  }
  if (status.accounts?.length) {
    sections.push({
      title: 'Accounts',
      header: ['account', 'state', 'images', 'error'],
      rows: status.accounts.map((a) => [a.account, a.state, String(a.images.length), oneLine(a.error ?? '')]),
    });
  }
  return sections
    .filter((s) => s.rows.length > 0)
    .map((s) => ({ ...s, rows: s.rows.map((r) => r.map(oneLine)) }));
}

function textMessage(
  status: ReleaseStatus,
  headline: string,
  sections: Section[],
  webUiLink?: string,
): string {
  const lines = [
    headline,
    '',
    `Image:   ${status.imageName}`,
    `Cloud:   ${status.cloud}`,
    `Account: ${status.account}`,
  ];
  if (status.error) lines.push(`Error:   ${oneLine(status.error)}`);
  for (const section of sections)
    lines.push('', `${section.title}:`, ...textTable([section.header, ...section.rows]));
  if (webUiLink) lines.push('', `Web UI: ${webUiLink}`);
  return lines.join('\n') + '\n';
}

/** Columns padded to their widest cell; the last column is not padded (no trailing blanks). */
function textTable(rows: string[][]): string[] {
  const widths: number[] = [];
  for (const row of rows) row.forEach((cell, i) => (widths[i] = Math.max(widths[i] ?? 0, cell.length)));
  return rows.map((row) =>
    (
      '  ' + row.map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i] ?? 0))).join('  ')
    ).trimEnd(),
  );
}

/** `headline` is HTML already (escaped where it holds text). */
function htmlMessage(
  status: ReleaseStatus,
  headline: string,
  sections: Section[],
  webUiLink?: string,
): string {
  const parts = [
    `<p>${headline}</p>`,
    '<table>',
    ...[
      ['Image', status.imageName],
      ['Cloud', status.cloud],
      ['Account', status.account],
      ...(status.error ? [['Error', status.error]] : []),
    ].map(([k, v]) => `<tr><th align="left">${escapeHtml(k ?? '')}</th><td>${escapeHtml(v ?? '')}</td></tr>`),
    '</table>',
  ];
  for (const section of sections) {
    const head = section.header.map((h) => `<th align="left">${escapeHtml(h)}</th>`).join('');
    const body = section.rows.map((r) => `<tr>${r.map((c) => `<td>${escapeHtml(c)}</td>`).join('')}</tr>`);
    parts.push(
      `<h3>${escapeHtml(section.title)}</h3>`,
      '<table border="1" cellpadding="4">',
      `<tr>${head}</tr>`,
      ...body,
      '</table>',
    );
  }
  if (webUiLink) {
    // Only http(s) becomes a link: a configured `javascript:` URL must not be clickable.
    const link = /^https?:\/\//i.test(webUiLink)
      ? `<a href="${escapeHtml(webUiLink)}">${escapeHtml(webUiLink)}</a>`
      : escapeHtml(webUiLink);
    parts.push(`<p>Web UI: ${link}</p>`);
  }
  return `<!doctype html>\n<html><body>\n${parts.join('\n')}\n</body></html>\n`;
}

function webhookBody(status: ReleaseStatus, webUiLink?: string, revoke?: RevokeNotice): ReleaseWebhookBody {
  return {
    event: releaseEvent(status, revoke),
    releaseId: revoke?.releaseId ?? status.releaseId,
    state: status.state,
    cloud: status.cloud,
    account: status.account,
    imageName: status.imageName,
    images: status.images,
    deprecated: status.deprecated,
    error: status.error ?? null,
    steps: status.steps.map((s) => ({
      name: s.name,
      state: s.state,
      startedAt: s.startedAt ?? null,
      finishedAt: s.finishedAt ?? null,
      durationSeconds: stepSeconds(s) ?? null,
      detail: s.detail ?? null,
      produced: s.produced ?? [],
    })),
    accounts: status.accounts ?? [],
    tests: (status.testResults ?? []).map((t) => ({
      name: t.name,
      passed: t.passed,
      durationSeconds: Math.round(t.durationMs / 100) / 10,
      error: t.error ?? null,
      skipped: t.skipped ?? null,
    })),
    webUi: webUiLink ?? null,
    blocked: status.state === 'blocked' && status.blocked ? status.blocked : null,
    revoke: revoke ? revokeWebhook(revoke) : null,
  };
}

/** Whole seconds from start to finish, when the step has both and they make sense. */
function stepSeconds(step: StepStatus): number | undefined {
  if (!step.startedAt || !step.finishedAt) return undefined;
  const ms = Date.parse(step.finishedAt) - Date.parse(step.startedAt);
  return Number.isFinite(ms) && ms >= 0 ? Math.round(ms / 1000) : undefined;
}

/** `45s`, `3m 05s`, `2h 07m`; empty when unknown. */
export function formatDuration(seconds: number | undefined): string {
  if (seconds === undefined) return '';
  const pad = (n: number) => String(n).padStart(2, '0');
  if (seconds < 60) return `${seconds}s`;
  if (seconds < 3600) return `${Math.floor(seconds / 60)}m ${pad(seconds % 60)}s`;
  return `${Math.floor(seconds / 3600)}h ${pad(Math.floor((seconds % 3600) / 60))}m`;
}

/** Escapes text for HTML element content and quoted attribute values. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => HTML_ENTITIES[c] ?? c);
}

const HTML_ENTITIES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};

function oneLine(text: string): string {
  return text.replace(/\s*[\r\n]+\s*/g, ' ').trim();
}
