// `imagecast imagelist schedule --every`: an interval the schedule would refuse is refused by the
// CLI itself, before it contacts Temporal, naming the flag, what it expects and what was given
// (exit 2). Against a closed port, so any attempt to connect would show as "could not reach".
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { InvalidArgumentError } from 'commander';
import { renewalInterval } from '../../../client/cli/commands/imagelist-renew.js';
import { renewalIntervalProblem } from '../../../client/sdk/imagelist-renewal.js';
import { freePort } from '../../../infra/devstack/free-port.js';
import { runCli } from '../../support/cli-process.js';

describe('imagecast imagelist schedule --every', () => {
  it('accepts minutes and hours from 1m to 12h, and refuses the rest with what it expects', () => {
    for (const ok of ['1m', '30m', '90m', '1h', '6h', '12h', ' 6h '])
      assert.equal(renewalInterval(ok), ok.trim());
    for (const bad of ['30s', '0m', '0h', '13h', '1d', '6', 'h', 'six hours', '']) {
      assert.throws(
        () => renewalInterval(bad),
        (error: unknown) =>
          error instanceof InvalidArgumentError &&
          error.message === 'expected an interval from 1m to 12h, such as 30m or 6h',
        JSON.stringify(bad),
      );
      assert.ok(renewalIntervalProblem(bad.trim()), `the SDK refuses ${JSON.stringify(bad)} too`);
    }
  });

  it('refuses --every 30s before contacting Temporal: exit 2, naming the flag, what it expects and what was given', async () => {
    const closed = await freePort();
    const env = { ...process.env, IMAGECAST_TEMPORAL_ADDRESS: `127.0.0.1:${closed}` };

    const text = await runCli(['imagelist', 'schedule', '--every', '30s'], env);
    assert.equal(text.status, 2, text.stderr);
    assert.match(
      text.stderr,
      /option '--every <interval>' argument '30s' is invalid\. expected an interval from 1m to 12h, such as 30m or 6h/,
    );
    assert.doesNotMatch(text.stderr, /could not reach Temporal/);

    const json = await runCli(['imagelist', 'schedule', '--every', '13h', '--json'], env);
    assert.equal(json.status, 2, json.stderr);
    const { error } = JSON.parse(json.stdout) as {
      error: { code: string; exitCode: number; message: string };
    };
    assert.deepEqual([error.code, error.exitCode], ['invalid_input', 2]);
    assert.match(error.message, /'--every <interval>' argument '13h' is invalid/);

    // A valid interval does go on to Temporal: here, nobody answers (exit 1, naming the address).
    const valid = await runCli(['imagelist', 'schedule', '--every', '6h'], env);
    assert.equal(valid.status, 1, valid.stderr);
    assert.match(valid.stderr, new RegExp(`could not reach Temporal at 127\\.0\\.0\\.1:${closed}`));
  });
});
