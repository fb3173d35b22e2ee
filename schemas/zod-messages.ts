import { z } from 'zod';
import { didYouMean } from './did-you-mean.js';

// Our words for zod's issues, for every schema in schemas/ (jobs, accounts, configuration,
// retirement policies): a missing value is "required", a present but wrong one says what was
// expected and what was given. zod leaves the input out of the issues it returns, so this has
// to happen in its error map, which still sees it. A schema's own `error` takes precedence.
//
// What was given is told by its kind only (`got a string`), never its value: accounts and
// configuration hold secrets. Job documents hold none, so parseJob asks for the values too
// (`got string "yes"`, through its per-parse error map).

type RawIssue = z.core.$ZodRawIssue;

/** `a number`, `a string`, `boolean false`, `null`, `a list of 3 items`, `an object`: no value that could be a secret. */
export function describeKind(value: unknown): string {
  if (typeof value === 'string') return 'a string';
  if (typeof value === 'number' || typeof value === 'bigint') return 'a number';
  return describeValue(value);
}

/** `number 1234`, `string "yes"`, `boolean false`, `null`, `a list of 3 items`, `an object`. */
export function describeValue(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return `a list of ${value.length} item${value.length === 1 ? '' : 's'}`;
  switch (typeof value) {
    case 'string':
      return value.length > 60 ? `a string of ${value.length} characters` : `string ${JSON.stringify(value)}`;
    case 'number':
    case 'boolean':
    case 'bigint':
      return `${typeof value} ${String(value)}`;
    case 'object':
      return 'an object';
    default:
      return typeof value;
  }
}

const TYPE_NAMES: Record<string, string> = {
  string: 'a string',
  number: 'a number',
  int: 'an integer',
  safeint: 'an integer',
  boolean: 'a boolean (true or false)',
  object: 'an object',
  array: 'a list (JSON array)',
  null: 'null',
};

/**
 * The message for one raw zod issue, or undefined to keep zod's. `showValues` tells the value
 * given (job documents); without it only its kind (everything else, which may hold secrets).
 */
export function issueMessage(issue: RawIssue, showValues = false): string | undefined {
  const input: unknown = issue.input;
  if (input === undefined && issue.code !== 'unrecognized_keys' && issue.code !== 'custom') return 'required';
  const given = showValues ? describeValue(input) : describeKind(input);
  switch (issue.code) {
    case 'invalid_type':
      return `expected ${TYPE_NAMES[issue.expected] ?? issue.expected}, got ${given}`;
    case 'invalid_value': {
      const values = issue.values.map((v) => JSON.stringify(v));
      if (values.length === 1) return `expected ${values[0]}, got ${given}`;
      const hint = typeof input === 'string' ? didYouMean(input, issue.values.map(String)) : '';
      return `expected one of ${values.join(', ')}, got ${given}${hint}`;
    }
    case 'too_small':
    case 'too_big':
      return sizeMessage(issue, input, showValues);
    case 'invalid_format':
      return `expected ${formatName(issue)}, got ${given}`;
    default:
      return undefined;
  }
}

function sizeMessage(
  issue: z.core.$ZodRawIssue<z.core.$ZodIssueTooSmall | z.core.$ZodIssueTooBig>,
  input: unknown,
  showValues: boolean,
): string | undefined {
  const least = issue.code === 'too_small';
  const bound = least ? (issue as { minimum: number | bigint }).minimum : (issue as { maximum: number | bigint }).maximum;
  const exact = issue.inclusive === false ? (least ? 'more than' : 'less than') : least ? 'at least' : 'at most';
  if (issue.origin === 'string' && typeof input === 'string')
    return `must be ${exact} ${bound} characters long, got ${input.length}`;
  if (issue.origin === 'array' && Array.isArray(input))
    return `must have ${exact} ${bound} item${bound === 1 ? '' : 's'}, got ${input.length}`;
  if (typeof input === 'number' || typeof input === 'bigint')
    return `must be ${exact} ${bound}${showValues ? `, got ${input}` : ''}`;
  return undefined;
}

function formatName(issue: z.core.$ZodRawIssue<z.core.$ZodIssueInvalidStringFormat>): string {
  if (issue.format === 'regex' && 'pattern' in issue && issue.pattern) return `a string matching ${String(issue.pattern)}`;
  if (issue.format === 'email') return 'an email address';
  if (issue.format === 'url') return 'a URL';
  return `a string in ${issue.format} format`;
}

/** For parsing job documents: the values given are told (`safeParse(doc, { error: jobIssueMessage })`). */
export const jobIssueMessage = (issue: RawIssue) => issueMessage(issue, true);

z.config({ customError: (issue) => issueMessage(issue) });
