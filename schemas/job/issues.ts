import { z } from 'zod';
import type { CloudName } from '../steps.js';
import { mashFieldClouds, unsupportedMashFields } from './clouds.js';

/** One problem of a job document. */
export interface JobIssue {
  /** JSON path, e.g. `$.conditions[0].condition`. */
  path: string;
  message: string;
}

/** An issue before its path is rendered: the path stays a list so issues sort in document order. */
export interface RawIssue {
  path: ReadonlyArray<PropertyKey>;
  message: string;
}

/** Thrown where a job document is refused; its message lists every problem, one per line. */
export class InvalidJobError extends Error {
  constructor(readonly issues: JobIssue[]) {
    super(`invalid job document:\n${formatIssues(issues)}`);
    this.name = 'InvalidJobError';
  }
}

/** `path: message`, one issue per line. */
export function formatIssues(issues: readonly JobIssue[]): string {
  return issues.map((i) => `${i.path}: ${i.message}`).join('\n');
}

/** `['conditions', 0, 'condition']` → `$.conditions[0].condition`; odd keys are quoted: `$["a b"]`. */
export function jsonPath(path: ReadonlyArray<PropertyKey>): string {
  return path.reduce<string>((acc, key) => {
    if (typeof key === 'number') return `${acc}[${key}]`;
    const name = String(key);
    return /^[A-Za-z_][A-Za-z0-9_]*$/.test(name) ? `${acc}.${name}` : `${acc}[${JSON.stringify(name)}]`;
  }, '$');
}

/** zod's issues, in our words: missing fields say "required", unknown keys are named one by one. */
export function fromZodIssues(error: z.ZodError, schema: z.ZodType, cloud: CloudName): RawIssue[] {
  return error.issues.flatMap((issue): RawIssue[] => {
    if (issue.code === 'unrecognized_keys') {
      const known = objectKeysAt(schema, issue.path);
      return issue.keys.map((key) => ({
        path: [...issue.path, key],
        message: unexpectedField(key, known, issue.path.length === 0 ? cloud : undefined),
      }));
    }
    if (issue.code === 'invalid_type' && issue.input === undefined)
      return [{ path: issue.path, message: 'required' }];
    return [{ path: issue.path, message: issue.message }];
  });
}

/**
 * Why `key` is refused: a mash field we do not support yet (named), a mash field of another
 * cloud, or an unknown field with the nearest known one suggested. `cloud` is set at top level.
 */
function unexpectedField(key: string, known: readonly string[], cloud: CloudName | undefined): string {
  if (cloud && unsupportedMashFields(cloud).includes(key))
    return `mash field "${key}" is not supported by Imagecast yet`;
  const owners = cloud ? mashFieldClouds(key) : [];
  if (owners.length > 0)
    return `mash field "${key}" belongs to ${owners.join('/')} jobs; ${cloud} jobs do not have it`;
  const suggestion = nearest(key, known);
  return `unknown field "${key}"${suggestion ? ` (did you mean "${suggestion}"?)` : ''}`;
}

/** The known name 1–2 edits away from `key`, if any (the closest wins). */
function nearest(key: string, known: readonly string[]): string | undefined {
  let best: { name: string; distance: number } | undefined;
  for (const name of known) {
    const distance = editDistance(key, name);
    if (distance <= 2 && distance < key.length && (!best || distance < best.distance))
      best = { name, distance };
  }
  return best?.name;
}

/** The field names of the object schema found at `path` (through defaults, optionals and arrays). */
function objectKeysAt(schema: z.ZodType, path: ReadonlyArray<PropertyKey>): string[] {
  let current: unknown = schema;
  for (const key of [...path, undefined]) {
    while (current instanceof z.ZodDefault || current instanceof z.ZodOptional) current = current.unwrap();
    if (key === undefined) break;
    if (current instanceof z.ZodObject && typeof key === 'string') current = current.shape[key];
    else if (current instanceof z.ZodArray && typeof key === 'number') current = current.element;
    else return [];
  }
  return current instanceof z.ZodObject ? Object.keys(current.shape) : [];
}

/** Levenshtein distance. */
function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let diagonal = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const above = row[j]!;
      row[j] = Math.min(above + 1, row[j - 1]! + 1, diagonal + (a[i - 1] === b[j - 1] ? 0 : 1));
      diagonal = above;
    }
  }
  return row[b.length]!;
}
