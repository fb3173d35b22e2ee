import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { formatDuration, ReleaseStatusBoard } from '../../workflows/release-status.js';

/** A board on a clock the test moves. */
function boardAt(start: string) {
  let now = new Date(start);
  const board = new ReleaseStatusBoard({ releaseId: 'r', cloud: 'local', account: 'test', imageName: 'img-v1' }, () => now);
  return { board, advance: (ms: number) => (now = new Date(now.getTime() + ms)) };
}

describe('release status board', () => {
  it('renders the Web UI table with separate state, time and attempts columns, one line per cell', () => {
    const { board, advance } = boardAt('2026-12-03T10:00:00Z');
    board.start('download', 'looking');
    advance(850);
    board.succeed('download', 'test.raw (sha256 abc…)');
    board.start('upload', 'streaming a|b\nc');
    board.attemptFailed('uploadImage attempt 1 of 20 failed: ECONNRESET');
    board.attemptFailed('uploadImage attempt 2 of 20 failed: ECONNRESET');
    advance(184_000);
    const lines = board.toMarkdown().split('\n');
    const e = '\u2003';
    assert.equal(lines[0], '**img-v1** — running');
    assert.equal(lines[2], `| step${e} | state${e} | took${e} | attempts |`);
    assert.equal(lines[4], `| ✔ download${e} | succeeded${e} | 850 ms${e} | 1 |`);
    assert.equal(lines[5], `| ▶ upload${e} | running${e} | 3 min 4 s${e} | 3 |`);
    assert.equal(lines[6], `| · create${e} | pending${e} |  |  |`);
    assert.deepEqual(lines.slice(-2), [
      '- **download**: test.raw (sha256 abc…)',
      '- **upload**: streaming a|b c; last failure: uploadImage attempt 2 of 20 failed: ECONNRESET',
    ]);
  });

  it('a finished release keeps no pending step, and says where it failed', () => {
    const { board } = boardAt('2026-12-03T10:00:00Z');
    board.start('download');
    board.succeed('download');
    board.start('upload');
    board.fail('disk full', 'failed');
    assert.equal(board.step('upload').state, 'failed');
    assert.equal(board.status.currentStep, 'upload', 'ReleaseStep still names the failed step');
    assert.deepEqual(
      board.status.steps.filter((s) => s.state === 'pending'),
      [],
    );
    assert.equal(board.step('cleanup').detail, 'not run: the release failed');
  });

  it('shows a waiting release with its start time', () => {
    const { board } = boardAt('2026-12-03T10:00:00Z');
    Object.assign(board.status, { state: 'waiting', waitingUntil: '2026-12-04T00:00:00.000Z' });
    assert.equal(board.toMarkdown().split('\n')[0], '**img-v1** — waiting until 2026-12-04T00:00:00.000Z');
  });

  it('formats durations for people', () => {
    assert.deepEqual([0, 999, 1000, 59_400, 60_000, 3_599_000, 3_600_000, 7_380_000].map(formatDuration), [
      '0 ms', '999 ms', '1 s', '59 s', '1 min 0 s', '59 min 59 s', '1 h 0 min', '2 h 3 min',
    ]);
  });
});
