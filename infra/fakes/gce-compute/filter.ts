// The `filter`, `maxResults` and `pageToken` of Compute list calls, as documented on every
// list page (e.g. https://cloud.google.com/compute/docs/reference/rest/v1/images/list):
// `field op value` with op `=`, `!=` or `:` (has; `*` is a wildcard, `labels.k:*` tests
// presence), nested fields by dots (`labels.env`, `deprecated.state`), terms joined by
// AND (or a space) and OR, parentheses, NOT/`-` before a term. Left out: the legacy
// `field eq regex` form and comparisons `<`/`>`.
import { invalidField } from './errors.js';

type Node =
  | { kind: 'cmp'; field: string; op: '=' | '!=' | ':'; value: string }
  | { kind: 'and' | 'or'; parts: Node[] }
  | { kind: 'not'; part: Node };

const TOKEN = /\s*(\(|\)|"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|!=|=|:|[^\s()=!:"']+)/y;

function tokenize(text: string): string[] {
  const tokens: string[] = [];
  TOKEN.lastIndex = 0;
  while (TOKEN.lastIndex < text.length) {
    const match = TOKEN.exec(text);
    if (!match) {
      if (/^\s*$/.test(text.slice(TOKEN.lastIndex))) break;
      throw invalidField('filter', text, 'Invalid list filter expression.');
    }
    tokens.push(match[1]!);
  }
  return tokens;
}

function unquote(token: string): string {
  if (/^(["']).*\1$/s.test(token)) return token.slice(1, -1).replace(/\\(.)/g, '$1');
  return token;
}

/** Parses a filter once; the result tests resources (their JSON views). */
export function parseFilter(text: string | null | undefined): (resource: object) => boolean {
  if (!text || !text.trim()) return () => true;
  const tokens = tokenize(text);
  let at = 0;
  const fail = () => invalidField('filter', text, 'Invalid list filter expression.');

  const parseOr = (): Node => {
    const parts = [parseAnd()];
    while (tokens[at] === 'OR') {
      at++;
      parts.push(parseAnd());
    }
    return parts.length === 1 ? parts[0]! : { kind: 'or', parts };
  };
  const parseAnd = (): Node => {
    const parts = [parseTerm()];
    while (at < tokens.length && tokens[at] !== ')' && tokens[at] !== 'OR') {
      if (tokens[at] === 'AND') at++;
      parts.push(parseTerm());
    }
    return parts.length === 1 ? parts[0]! : { kind: 'and', parts };
  };
  const parseTerm = (): Node => {
    const token = tokens[at++];
    if (token === undefined) throw fail();
    if (token === 'NOT') return { kind: 'not', part: parseTerm() };
    if (token === '(') {
      const inner = parseOr();
      if (tokens[at++] !== ')') throw fail();
      return inner;
    }
    const negated = token.startsWith('-');
    const field = negated ? token.slice(1) : token;
    const op = tokens[at++];
    const value = tokens[at++];
    if ((op !== '=' && op !== '!=' && op !== ':') || value === undefined || value === ')') throw fail();
    const cmp: Node = { kind: 'cmp', field, op, value: unquote(value) };
    return negated ? { kind: 'not', part: cmp } : cmp;
  };

  const tree = parseOr();
  if (at !== tokens.length) throw fail();
  return (resource) => evaluate(tree, resource);
}

function fieldValue(resource: object, path: string): unknown {
  let value: unknown = resource;
  for (const key of path.split('.')) {
    if (value === null || typeof value !== 'object') return undefined;
    value = (value as Record<string, unknown>)[key];
  }
  return value;
}

const glob = (pattern: string) =>
  new RegExp(`^${pattern.split('*').map((p) => p.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*')}$`);

function evaluate(node: Node, resource: object): boolean {
  switch (node.kind) {
    case 'and':
      return node.parts.every((p) => evaluate(p, resource));
    case 'or':
      return node.parts.some((p) => evaluate(p, resource));
    case 'not':
      return !evaluate(node.part, resource);
    case 'cmp': {
      const value = fieldValue(resource, node.field);
      // Repeated fields (licenses, tags.items) match when any element does.
      const values = (Array.isArray(value) ? value : [value]).filter((v) => v !== undefined).map(String);
      if (node.op === ':') return node.value === '*' ? values.length > 0 : values.some((v) => glob(node.value).test(v));
      const equal = values.includes(node.value);
      return node.op === '=' ? equal : !equal;
    }
  }
}

export interface Page<T> {
  items: T[];
  nextPageToken?: string;
}

/** One page of `all`; the token is the offset, opaque to callers as Google's are. */
export function paginate<T>(all: T[], maxResults: string | null, pageToken: string | null): Page<T> {
  const size = maxResults ? Number(maxResults) : 500;
  if (!Number.isInteger(size) || size < 0 || size > 500) {
    throw invalidField('maxResults', maxResults, 'Must be between 0 and 500.');
  }
  const pageSize = size === 0 ? 500 : size;
  let start = 0;
  if (pageToken) {
    start = Number(Buffer.from(pageToken, 'base64url').toString('utf8').replace(/^offset:/, ''));
    if (!Number.isInteger(start) || start < 0) throw invalidField('pageToken', pageToken);
  }
  const items = all.slice(start, start + pageSize);
  const next = start + pageSize;
  return next < all.length ? { items, nextPageToken: Buffer.from(`offset:${next}`).toString('base64url') } : { items };
}
