// Trust-policy claim patterns: literal except * and ?, and nothing that would trust everyone.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { claimMatches, parseClaimPatterns, unmatchedClaims } from '../../../../activities/accounts/oidc/claim-patterns.js';

describe('claim patterns', () => {
  it('match exactly, or by * and ?', () => {
    assert.equal(claimMatches('org/repo', 'org/repo'), true);
    assert.equal(claimMatches('org/repo', 'org/repo2'), false);
    assert.equal(claimMatches('refs/heads/release-*', 'refs/heads/release-15.6'), true);
    assert.equal(claimMatches('refs/heads/release-*', 'refs/heads/main'), false);
    assert.equal(claimMatches('v?', 'v1'), true);
    assert.equal(claimMatches('v?', 'v12'), false);
    // Regex characters are literal: "." is not "any character".
    assert.equal(claimMatches('org/a.b', 'org/aXb'), false);
    assert.equal(claimMatches('12345', 12345), true, 'numbers compare as text');
    assert.equal(claimMatches('true', true), true);
    assert.equal(claimMatches('x', ['x']), false, 'arrays never match');
    assert.equal(claimMatches('x', undefined), false, 'a missing claim never matches');
  });

  it('a literal pattern (no * or ?) matches exactly its own text and nothing else', () => {
    fc.assert(
      fc.property(fc.string().filter((s) => !/[*?]/.test(s)), fc.string(), (pattern, other) => {
        assert.equal(claimMatches(pattern, pattern), true);
        if (other !== pattern) assert.equal(claimMatches(pattern, other), false);
      }),
    );
  });

  it('a * pattern matches whatever text surrounds its literal parts', () => {
    fc.assert(
      fc.property(fc.string().filter((s) => !/[*?]/.test(s)), fc.string(), fc.string(), (prefix, middle, suffix) => {
        assert.equal(claimMatches(`${prefix}*${suffix.replace(/[*?]/g, '')}`, `${prefix}${middle}${suffix.replace(/[*?]/g, '')}`), true);
      }),
    );
  });

  it('names the claims that differ', () => {
    assert.deepEqual(unmatchedClaims({ repository: 'org/repo', ref: 'refs/heads/main' }, { repository: 'org/repo', ref: 'refs/heads/dev' }), ['ref']);
    assert.deepEqual(unmatchedClaims({ repository: 'org/*' }, { repository: 'org/x' }), []);
  });

  it('refuses patterns that would trust too much, naming --claim and what was given', () => {
    assert.deepEqual(parseClaimPatterns(['repository=org/repo', 'ref=refs/heads/*']), { repository: 'org/repo', ref: 'refs/heads/*' });
    assert.throws(() => parseClaimPatterns([]), /--claim: at least one is required/);
    assert.throws(() => parseClaimPatterns(['repository']), /--claim: expected name=pattern such as repository=org\/repo, got "repository"/);
    assert.throws(() => parseClaimPatterns(['repository=*']), /--claim repository: the pattern "\*" would match anything/);
    assert.throws(() => parseClaimPatterns(['repository=']), /would match anything/);
    assert.throws(() => parseClaimPatterns(['aud=x']), /"aud" is checked by the verifier itself/);
    assert.throws(() => parseClaimPatterns(['ref=a', 'ref=b']), /"ref" is given twice/);
  });
});
