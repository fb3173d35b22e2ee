import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { compareVersions, nextVersion } from '../../../../activities/common/imagelist/version-order.js';

describe('hv:version order (vmcatcher split_numeric_sort)', () => {
  // The results of the real Python code (research note, section 1.4).
  for (const [previous, next] of [
    ['0.0.9', '0.0.10'],
    ['1.0', '1.0.1'],
    ['3.3.0-1', '3.3.0-2'],
    ['1.0a', '1.0b'],
  ] as const) {
    it(`${previous} → ${next} is newer`, () => assert.ok(compareVersions(previous, next) > 0));
  }
  for (const [previous, next] of [
    ['1.10', '1.9'],
    ['1.0', '1.0a'],
    ['3.3.0-1', '3.3.0'],
  ] as const) {
    it(`${previous} → ${next} is older`, () => assert.ok(compareVersions(previous, next) < 0));
  }

  const version = fc
    .array(
      fc.oneof(
        fc.nat({ max: 1000 }).map(String),
        fc.stringMatching(/^[a-z]{1,3}$/),
        fc.constantFrom('rc1', '1a'),
      ),
      { minLength: 1, maxLength: 5 },
    )
    .chain((parts) =>
      fc
        .array(fc.constantFrom('.', '-', '/', ','), {
          minLength: parts.length - 1,
          maxLength: parts.length - 1,
        })
        .map((seps) => parts.map((p, i) => p + (seps[i] ?? '')).join('')),
    );

  it('is antisymmetric and equal only for equal strings of equal numbers', () => {
    fc.assert(
      fc.property(version, version, (a, b) => {
        assert.equal(compareVersions(a, b), -compareVersions(b, a) || 0);
        if (a === b) assert.equal(compareVersions(a, b), 0);
      }),
    );
  });

  it('sees a bump of the last number as newer, with numbers compared as numbers', () => {
    fc.assert(
      fc.property(
        fc.array(fc.nat({ max: 10_000 }), { minLength: 1, maxLength: 4 }),
        fc.nat({ max: 10_000 }),
        (head, last) => {
          const previous = [...head, last].join('.');
          assert.ok(compareVersions(previous, [...head, last + 1].join('.')) > 0);
          assert.ok(compareVersions([...head, last + 1].join('.'), previous) < 0);
        },
      ),
    );
    assert.ok(compareVersions('20261204123456789', '20261204123456790') > 0, 'beyond 2^53');
  });
});

describe('nextVersion (what publish bumps hv:version to)', () => {
  for (const [version, next] of [
    ['0.0.0', '0.0.1'],
    ['0.0.9', '0.0.10'],
    ['3.1.4', '3.1.5'],
    ['1.2-3', '1.2-4'],
    ['2026.12.rc1', '2026.12.rc2'],
    ['beta', 'beta.1'],
    ['20261204123456789', '20261204123456790'],
  ] as const) {
    it(`${version} → ${next}, which vmcatcher sorts as newer`, () => {
      assert.equal(nextVersion(version), next);
      assert.ok(compareVersions(version, next) > 0);
    });
  }
  it('is newer than any version, as vmcatcher sorts them', () => {
    fc.assert(
      fc.property(
        fc.stringMatching(/^[0-9a-z.-]{1,12}$/),
        (version) => compareVersions(version, nextVersion(version)) > 0,
      ),
    );
  });
});
