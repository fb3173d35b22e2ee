// How vmcatcher orders hv:version strings: a port of `split_numeric_sort` and `string_sort`
// (vmcatcher_subscribe/stringsort.py; vmcaster's versioning.py is the same code). Subscribers
// refuse an update whose version sorts lower (error 17), so we must sort the same way, quirks
// included: a digit segment ranks above a text one (1.0 → 1.0a is "older"), and "3.3.0-1"
// is newer than "3.3.0".

const DELIMITERS = /[-,./]/g;
const DIGITS = /[0-9]+/g;
const ALL_DIGITS = /^[0-9]+$/;

/** Python's split_line_by_delimiter: the pieces between matches and the matches themselves, in order. */
function splitKeeping(line: string, pattern: RegExp): string[] {
  const out: string[] = [];
  let start = 0;
  for (const match of line.matchAll(pattern)) {
    const at = match.index;
    if (start !== at) out.push(line.slice(start, at));
    out.push(match[0]);
    start = at + match[0].length;
  }
  if (start !== line.length) out.push(line.slice(start));
  return out;
}

/** Python's str.isdigit() for the ASCII digits these patterns produce. */
const isDigits = (s: string) => ALL_DIGITS.test(s);

/** The shared loop of both Python functions: 1 when y is newer, -1 when older, 0 when equal. */
function compareSplit(x: string[], y: string[], compareText: (a: string, b: string) => number): number {
  const shortest = Math.min(x.length, y.length);
  for (let i = 0; i < shortest; i++) {
    const a = x[i]!;
    const b = y[i]!;
    if (a === b) continue;
    if (isDigits(a) && isDigits(b)) {
      // BigInt: Python's int() has no size limit, and "20261204123456789" must not round.
      const [na, nb] = [BigInt(a), BigInt(b)];
      return na > nb ? -1 : na < nb ? 1 : 0;
    }
    if (isDigits(a)) return -1;
    if (isDigits(b)) return 1;
    const rc = compareText(a, b);
    if (rc !== 0) return rc;
  }
  return x.length < y.length ? 1 : x.length > y.length ? -1 : 0;
}

/** Python compares str by code point; JS `<` compares UTF-16 units, the same for the BMP. */
const compareCodePoints = (a: string, b: string) => (a > b ? -1 : a < b ? 1 : 0);

function stringSort(x: string, y: string): number {
  return compareSplit(splitKeeping(x, DIGITS), splitKeeping(y, DIGITS), compareCodePoints);
}

/** vmcatcher's split_numeric_sort(old, new): > 0 when `next` is newer, 0 equal, < 0 older. */
export function compareVersions(previous: string, next: string): number {
  return compareSplit(splitKeeping(previous, DELIMITERS), splitKeeping(next, DELIMITERS), stringSort);
}

/**
 * The version after `version`, as vmcaster bumps it on every upload: the last number in it
 * plus one (`0.0.9` → `0.0.10`, `1.2-3` → `1.2-4`); with no number, `.1` is appended
 * (`beta` → `beta.1`, which vmcatcher sorts as newer).
 */
export function nextVersion(version: string): string {
  const last = [...version.matchAll(/[0-9]+/g)].at(-1);
  if (!last) return `${version}.1`;
  const bumped = (BigInt(last[0]) + 1n).toString();
  return version.slice(0, last.index) + bumped + version.slice(last.index + last[0].length);
}
