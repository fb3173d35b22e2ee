import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { rpmVersionCompare } from '../../../../activities/common/download/rpm-version.js';

/** [a, b, rpmvercmp(a, b)]: rpm's own test cases (tests/rpmvercmp.at) plus build-service releases. */
const CASES: Array<[string, string, -1 | 0 | 1]> = [
  ['1.0', '1.0', 0],
  ['1.0', '2.0', -1],
  ['1.0', '1.0.1', -1],
  ['2.0.1', '2.0', 1],
  ['1.0a', '1.0', 1],
  ['2.0.1', '2.0.1a', -1],
  ['1.1.1', '1.1.01', 0],
  ['10.0001', '10.1', 0],
  ['10.0001', '10.0039', -1],
  ['5.5p1', '5.5p10', -1],
  ['5.5p2', '5.6p1', -1],
  ['10xyz', '10.1xyz', -1],
  ['xyz10', 'xyz10.1', -1],
  ['xyz.4', '8', -1],
  ['xyz.4', '2', -1],
  ['6.0.rc1', '6.0', 1],
  ['10b2', '10a1', 1],
  ['1.0a', '1.0aa', -1],
  ['4.999.9', '5.0', -1],
  ['20101121', '20101122', -1],
  ['2.0', '2_0', 0],
  ['a+', 'a_', 0],
  ['+', '_', 0],
  ['1.0~rc1', '1.0', -1],
  ['1.0~rc1', '1.0~rc2', -1],
  ['1.0~rc1~git123', '1.0~rc1', -1],
  ['1.0^', '1.0', 1],
  ['1.0^git1', '1.0', 1],
  ['1.0^git1', '1.0^git2', -1],
  ['1.0^git1', '1.01', -1],
  ['1.0^20160101', '1.0.1', -1],
  ['1.0^20160102', '1.0^20160101^git1', 1],
  ['1.0~rc1^git1', '1.0~rc1', 1],
  ['1.0^git1~pre', '1.0^git1', -1],
  // OBS build counters and kiwi versions.
  ['1.10', '1.9', 1],
  ['1.42', '1.9', 1],
  ['150600.23.1', '150600.22.9', 1],
  ['123456789012345678901234567890', '123456789012345678901234567891', -1],
];

describe('rpm version comparison (rpmvercmp)', () => {
  for (const [a, b, expected] of CASES) {
    const shown = expected < 0 ? '<' : expected > 0 ? '>' : '==';
    it(`orders ${a} ${shown} ${b}, and the other way round`, () => {
      assert.equal(rpmVersionCompare(a, b), expected);
      assert.equal(rpmVersionCompare(b, a), expected === 0 ? 0 : -expected);
    });
  }

  it('sorts a list of releases the way zypper would', () => {
    const releases = ['1.10', '1.9', '1.0~beta', '1.0', '1.0^post1', '1.0.1', '1.2'];
    assert.deepEqual([...releases].sort(rpmVersionCompare), [
      '1.0~beta',
      '1.0',
      '1.0^post1',
      '1.0.1',
      '1.2',
      '1.9',
      '1.10',
    ]);
  });
});
