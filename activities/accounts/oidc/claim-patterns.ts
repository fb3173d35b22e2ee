/**
 * How a trust policy's `--claim name=pattern` matches a token's claim. A pattern is literal
 * except for `*` (any run of characters, including none) and `?` (exactly one character), so
 * `ref=refs/heads/release-*` or `repository=org/*` can be written; everything else must be
 * equal. Only string, number and boolean claims can match (arrays and objects never do): a
 * policy is a set of equalities a person can read, not a query language.
 */
export type ClaimPatterns = Record<string, string>;

export class ClaimPatternError extends Error {
  override name = 'ClaimPatternError';
}

const CLAIM_NAME = /^[A-Za-z_][A-Za-z0-9_.:-]{0,63}$/;
/** Claims that say nothing about who is asking: a policy made only of these trusts everyone. */
const NON_IDENTIFYING = new Set(['iss', 'aud', 'exp', 'nbf', 'iat', 'jti']);

/** `["repository=org/repo", "ref=refs/heads/main"]` → patterns, refusing what would trust too much. */
export function parseClaimPatterns(texts: string[]): ClaimPatterns {
  if (texts.length === 0) {
    throw new ClaimPatternError('--claim: at least one is required (e.g. --claim repository=org/repo), or every repository of the issuer would be trusted');
  }
  const patterns: ClaimPatterns = {};
  for (const text of texts) {
    const eq = text.indexOf('=');
    const name = eq < 0 ? text : text.slice(0, eq);
    const pattern = eq < 0 ? '' : text.slice(eq + 1);
    if (eq < 0 || !CLAIM_NAME.test(name)) throw new ClaimPatternError(`--claim: expected name=pattern such as repository=org/repo, got "${text}"`);
    if (NON_IDENTIFYING.has(name)) throw new ClaimPatternError(`--claim: "${name}" is checked by the verifier itself; name a claim that identifies the CI job (repository, ref, sub…)`);
    if (pattern === '' || /^[*?]*$/.test(pattern)) throw new ClaimPatternError(`--claim ${name}: the pattern "${pattern}" would match anything; give a value`);
    if (name in patterns) throw new ClaimPatternError(`--claim: "${name}" is given twice`);
    patterns[name] = pattern;
  }
  return patterns;
}

/** Does one claim value match one pattern? */
export function claimMatches(pattern: string, value: unknown): boolean {
  if (typeof value !== 'string' && typeof value !== 'number' && typeof value !== 'boolean') return false;
  return globToRegExp(pattern).test(String(value));
}

/** The claims a token is missing or that differ, by name; empty when every pattern matches. */
export function unmatchedClaims(patterns: ClaimPatterns, claims: Record<string, unknown>): string[] {
  return Object.entries(patterns)
    .filter(([name, pattern]) => !claimMatches(pattern, claims[name]))
    .map(([name]) => name);
}

function globToRegExp(pattern: string): RegExp {
  const body = [...pattern]
    .map((c) => (c === '*' ? '.*' : c === '?' ? '.' : c.replace(/[\\^$.+()[\]{}|/-]/g, '\\$&')))
    .join('');
  return new RegExp(`^${body}$`, 's');
}
