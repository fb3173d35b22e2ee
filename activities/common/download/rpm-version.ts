/**
 * rpm's version comparison (rpmvercmp), because build services and zypper order builds and
 * packages this way and a release must pick the build a person would call "newest".
 *
 * Both strings are read as runs of digits and runs of ASCII letters; anything else only
 * separates runs (so `2.0` equals `2_0`). Digit runs compare as numbers (leading zeros
 * ignored, so `1.01` equals `1.1`), letter runs as strings, and a digit run is newer than a
 * letter run. `~` sorts before everything, even the end of the string (`1.0~rc1 < 1.0`);
 * `^` sorts after the end of the string but before any other run (`1.0 < 1.0^git1 < 1.0.1`).
 * When all runs are equal, the string with runs left over is newer. Returns -1, 0 or 1.
 */
export function rpmVersionCompare(a: string, b: string): -1 | 0 | 1 {
  if (a === b) return 0;
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    i = skipSeparators(a, i);
    j = skipSeparators(b, j);
    const x = a[i];
    const y = b[j];

    if (x === '~' || y === '~') {
      if (x !== '~') return 1;
      if (y !== '~') return -1;
      i++;
      j++;
      continue;
    }
    if (x === '^' || y === '^') {
      if (x === undefined) return -1;
      if (y === undefined) return 1;
      if (x !== '^') return 1;
      if (y !== '^') return -1;
      i++;
      j++;
      continue;
    }
    if (x === undefined || y === undefined) break;

    const numeric = isDigit(x);
    const inRun = numeric ? isDigit : isLetter;
    const endA = runEnd(a, i, inRun);
    const endB = runEnd(b, j, inRun);
    // b has the other kind of run here: a digit run is always newer than a letter run.
    if (endB === j) return numeric ? 1 : -1;

    const order = numeric
      ? compareDigits(a.slice(i, endA), b.slice(j, endB))
      : compareStrings(a.slice(i, endA), b.slice(j, endB));
    if (order !== 0) return order;
    i = endA;
    j = endB;
  }
  if (i >= a.length && j >= b.length) return 0;
  return i >= a.length ? -1 : 1;
}

function isDigit(c: string | undefined): boolean {
  return c !== undefined && c >= '0' && c <= '9';
}

function isLetter(c: string | undefined): boolean {
  return c !== undefined && ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'));
}

function skipSeparators(s: string, from: number): number {
  let k = from;
  while (k < s.length && !isDigit(s[k]) && !isLetter(s[k]) && s[k] !== '~' && s[k] !== '^') k++;
  return k;
}

function runEnd(s: string, from: number, inRun: (c: string | undefined) => boolean): number {
  let k = from;
  while (k < s.length && inRun(s[k])) k++;
  return k;
}

/** Numbers of any length (build dates, git timestamps) without overflowing a double. */
function compareDigits(x: string, y: string): -1 | 0 | 1 {
  const xs = x.replace(/^0+/, '');
  const ys = y.replace(/^0+/, '');
  if (xs.length !== ys.length) return xs.length > ys.length ? 1 : -1;
  return compareStrings(xs, ys);
}

/** Byte order, like strcmp (not locale order: `Z` < `a`). */
function compareStrings(x: string, y: string): -1 | 0 | 1 {
  if (x === y) return 0;
  return x > y ? 1 : -1;
}
