/** The known name 1–2 edits away from `given`, if any (the closest wins): for "did you mean" hints. */
export function nearestName(given: string, known: readonly string[]): string | undefined {
  // Long inputs cannot be 2 edits from a short name; skipping them keeps huge values cheap.
  if (given.length > 80) return undefined;
  let best: { name: string; distance: number } | undefined;
  for (const name of known) {
    if (Math.abs(name.length - given.length) > 2) continue;
    const distance = editDistance(given, name);
    if (distance <= 2 && distance < given.length && (!best || distance < best.distance))
      best = { name, distance };
  }
  return best?.name;
}

/** ` (did you mean "x"?)`, or nothing. */
export function didYouMean(given: string, known: readonly string[]): string {
  const suggestion = nearestName(given, known);
  return suggestion ? ` (did you mean "${suggestion}"?)` : '';
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
