import type { z } from 'zod';
import { CLOUDS, type CloudName } from '../steps.js';
import { UNSUPPORTED_MASH_FIELDS } from './base.js';
import { localJobSchema, localRegionIssues, type LocalJob } from './local.js';

/** Jobs that can run today; other clouds join as their providers land. */
export type ReleaseJob = LocalJob;

export interface JobIssue {
  /** JSON path, e.g. `$.conditions[0].condition`. */
  path: string;
  message: string;
}

export const jobSchemas = { local: localJobSchema } as const;

/** Thrown where a job document is refused; lists every problem. */
export class InvalidJobError extends Error {
  constructor(readonly issues: JobIssue[]) {
    super(`invalid job document:\n${formatIssues(issues)}`);
    this.name = 'InvalidJobError';
  }
}

export function formatIssues(issues: JobIssue[]): string {
  return issues.map((i) => `${i.path}: ${i.message}`).join('\n');
}

export function jsonPath(path: ReadonlyArray<PropertyKey>): string {
  return path.reduce<string>((acc, key) => (typeof key === 'number' ? `${acc}[${key}]` : `${acc}.${String(key)}`), '$');
}

/**
 * Validates a job document for `cloud` (or the document's own `cloud`), reporting every
 * problem at once: schema errors, mash fields we do not support yet, unknown fields.
 */
export function parseJob(input: unknown, cloud?: CloudName): { ok: true; job: ReleaseJob } | { ok: false; issues: JobIssue[] } {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    return { ok: false, issues: [{ path: '$', message: 'a job document must be a JSON object' }] };
  }
  const doc = input as Record<string, unknown>;
  const named = doc.cloud;
  if (cloud && named !== undefined && named !== cloud) {
    return { ok: false, issues: [{ path: '$.cloud', message: `the document says "${String(named)}" but the job is for ${cloud}` }] };
  }
  const target = cloud ?? named;
  if (target === undefined) return { ok: false, issues: [{ path: '$.cloud', message: `say which cloud: ${CLOUDS.join(', ')}` }] };
  if (!(CLOUDS as readonly unknown[]).includes(target)) {
    return { ok: false, issues: [{ path: '$.cloud', message: `unknown cloud "${String(target)}": use ${CLOUDS.join(', ')}` }] };
  }
  if (target !== 'local') return { ok: false, issues: [{ path: '$.cloud', message: `the ${String(target)} provider is not available yet` }] };

  const schema = jobSchemas.local;
  const issues = fieldIssues(doc, Object.keys(schema.shape));
  const result = schema.safeParse({ ...doc, cloud: target });
  if (!result.success) issues.push(...zodIssues(result.error));
  issues.push(...localRegionIssues(doc).map((i) => ({ path: jsonPath(i.path), message: i.message })));
  if (issues.length) return { ok: false, issues: sortByPath(issues) };
  return { ok: true, job: result.data! };
}

function fieldIssues(doc: Record<string, unknown>, known: string[]): JobIssue[] {
  const issues: JobIssue[] = [];
  for (const key of Object.keys(doc)) {
    if (known.includes(key)) continue;
    if ((UNSUPPORTED_MASH_FIELDS as readonly string[]).includes(key)) {
      issues.push({ path: `$.${key}`, message: `mash field "${key}" is not supported by Imagecast yet` });
      continue;
    }
    const suggestion = known.find((k) => editDistance(k, key) <= 2);
    issues.push({ path: `$.${key}`, message: `unknown field "${key}"${suggestion ? ` (did you mean "${suggestion}"?)` : ''}` });
  }
  return issues;
}

function zodIssues(error: z.ZodError): JobIssue[] {
  return error.issues.map((issue) => ({
    path: jsonPath(issue.path),
    message: issue.code === 'invalid_type' && issue.input === undefined ? 'required' : issue.message,
  }));
}

function sortByPath(issues: JobIssue[]): JobIssue[] {
  return [...issues].sort((a, b) => a.path.localeCompare(b.path));
}

function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let previous = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const current = row[j]!;
      row[j] = Math.min(row[j]! + 1, row[j - 1]! + 1, previous + (a[i - 1] === b[j - 1] ? 0 : 1));
      previous = current;
    }
  }
  return row[b.length]!;
}
