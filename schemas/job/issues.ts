import { z } from 'zod';
import type { CloudName } from '../steps.js';
import { didYouMean } from '../did-you-mean.js';
import { describeValue } from '../zod-messages.js';
import { mashFieldClouds, refusedMashField } from './clouds.js';

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

/**
 * zod's issues, in our words (schemas/zod-messages.ts words each one): unknown keys are named
 * one by one, and a union reports the problems of the alternative the value was meant for.
 */
export function fromZodIssues(error: z.ZodError, schema: z.ZodType, cloud: CloudName): RawIssue[] {
  const out: RawIssue[] = [];
  for (const issue of error.issues) collect(issue, [], schema, cloud, out);
  // zod still runs a string's length checks on a value of the wrong type (an array has a
  // length too): once the type is wrong, that is the only problem of the value.
  const wrongType = new Set(out.filter((i) => i.message.startsWith('expected ')).map((i) => jsonPath(i.path)));
  return out.filter((i) => !wrongType.has(jsonPath(i.path)) || i.message.startsWith('expected '));
}

function collect(
  issue: z.core.$ZodIssue,
  prefix: ReadonlyArray<PropertyKey>,
  schema: z.ZodType,
  cloud: CloudName,
  out: RawIssue[],
): void {
  const path = [...prefix, ...issue.path];
  if (issue.code === 'unrecognized_keys') {
    const known = objectKeysAt(schema, path);
    for (const key of issue.keys)
      out.push({ path: [...path, key], message: unexpectedField(key, known, path.length === 0 ? cloud : undefined) });
    return;
  }
  if (issue.code === 'invalid_union') {
    const meant = meantAlternative(issue);
    // One alternative fits the value's type: its problems are the real ones, unless it only
    // failed as a whole and the union has words of its own (e.g. share_with's).
    const ownWords = issue.message !== 'Invalid input';
    if (meant && !(ownWords && meant.every((i) => i.path.length === 0))) {
      for (const inner of meant) collect(inner, path, schema, cloud, out);
      return;
    }
    if (!ownWords && !meant) {
      out.push({ path, message: unionTypeMessage(issue) });
      return;
    }
  }
  out.push({ path, message: withGiven(issue) });
}

/**
 * A schema's own words say what it expects (`a kiwi profile name: …`); add what was given
 * when they do not (parseJob asks zod to keep the input). Refinements word their own.
 */
export function withGiven(issue: z.core.$ZodIssue): string {
  const { message } = issue;
  const input = (issue as { input?: unknown }).input;
  if (input === undefined || issue.code === 'custom' || /, got /.test(message)) return message;
  if (input === '' || (typeof input === 'string' && message.includes(JSON.stringify(input)))) return message;
  if (!['invalid_format', 'invalid_value', 'too_small', 'too_big', 'invalid_union'].includes(issue.code)) return message;
  return `${message}; got ${describeValue(input)}`;
}

/**
 * The alternative the value was meant for, if one stands out: the only one that did not fail
 * on the value's type, or else the only one the value got inside of (its problems are nested).
 */
function meantAlternative(issue: z.core.$ZodIssueInvalidUnion): z.core.$ZodIssue[] | undefined {
  const fitting = issue.errors.filter(
    (alternative) => !alternative.some((i) => i.path.length === 0 && i.code === 'invalid_type'),
  );
  if (fitting.length === 1) return fitting[0];
  // Unknown keys are reported at the object itself, yet show that the value was that object.
  const entered = fitting.filter((alternative) =>
    alternative.every((i) => i.path.length > 0 || i.code === 'unrecognized_keys'),
  );
  return entered.length === 1 ? entered[0] : undefined;
}

/** No alternative fits the value's type: `expected a string or an object, got number 7`. */
function unionTypeMessage(issue: z.core.$ZodIssueInvalidUnion): string {
  const messages = issue.errors.map((alternative) => alternative.find((i) => i.path.length === 0)?.message ?? '');
  const expected = messages.map((m) => /^expected (.*), got /.exec(m)?.[1]).filter((e): e is string => !!e);
  const given = /, got (.*)$/.exec(messages[0] ?? '')?.[1];
  if (expected.length === messages.length && given) return `expected ${[...new Set(expected)].join(' or ')}, got ${given}`;
  return `fits none of its forms: ${messages.filter(Boolean).join('; or ')}`;
}

/**
 * Why `key` is refused: a mash field we do not support yet (named), a mash field of another
 * cloud, or an unknown field with the nearest known one suggested. `cloud` is set at top level.
 */
function unexpectedField(key: string, known: readonly string[], cloud: CloudName | undefined): string {
  if (cloud) {
    const refusal = refusedMashField(cloud, key);
    if (refusal) return refusal;
  }
  const owners = cloud ? mashFieldClouds(key) : [];
  if (owners.length > 0)
    return `mash field "${key}" belongs to ${owners.join('/')} jobs; ${cloud} jobs do not have it`;
  return `unknown field ${JSON.stringify(key.length > 80 ? `${key.slice(0, 80)}…` : key)}${didYouMean(key, known)}`;
}

/** The field names of the object schema found at `path` (through defaults, optionals, arrays and unions). */
function objectKeysAt(schema: unknown, path: ReadonlyArray<PropertyKey>): string[] {
  let current = schema;
  while (current instanceof z.ZodDefault || current instanceof z.ZodOptional) current = current.unwrap();
  if (current instanceof z.ZodUnion) {
    for (const option of current.options as unknown[]) {
      const keys = objectKeysAt(option, path);
      if (keys.length > 0) return keys;
    }
    return [];
  }
  const [key, ...rest] = path;
  if (key === undefined) return current instanceof z.ZodObject ? Object.keys(current.shape) : [];
  if (current instanceof z.ZodObject && typeof key === 'string') return objectKeysAt(current.shape[key], rest);
  if (current instanceof z.ZodArray && typeof key === 'number') return objectKeysAt(current.element, rest);
  return [];
}
