// With --json, every command's error is JSON on stdout ({"error": {message, code, exitCode}}),
// as well as a line on stderr: commands that need no server (validate, schema) and usage errors.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { runCli } from '../../support/cli-process.js';
import { tempDir } from '../../support/stack.js';

interface JsonError {
  error: { message: string; code: string; exitCode: number };
}

describe('--json errors', () => {
  const env = { ...process.env };

  it('job validate: an unreadable file is a JSON error on stdout', async () => {
    const missing = join(tempDir('json-errors'), 'missing.json');
    const ran = await runCli(['job', 'validate', '--json', missing], env);
    assert.equal(ran.status, 2);
    const { error } = JSON.parse(ran.stdout) as JsonError;
    assert.equal(error.code, 'invalid_input');
    assert.equal(error.exitCode, 2);
    assert.match(error.message, /missing\.json: cannot read: no such file/);
  });

  it('usage errors (a bad choice, an unknown option, a missing argument) are JSON on stdout too', async () => {
    const cases: Array<[string[], RegExp]> = [
      [['job', 'validate', '--cloud', 'oci', 'x.json', '--json'], /Allowed choices are local, ec2, gce, azure/],
      [['job', 'schema', 'oci', '--json'], /'oci' is invalid for argument 'cloud'/],
      [['job', 'status', '--json'], /missing required argument 'release-id'/],
      [['token', 'list', '--json', '--colour'], /unknown option '--colour'/],
    ];
    for (const [args, message] of cases) {
      const ran = await runCli(args, env);
      assert.equal(ran.status, 2, args.join(' '));
      assert.match(ran.stderr, message);
      const { error } = JSON.parse(ran.stdout) as JsonError;
      assert.deepEqual([error.code, error.exitCode], ['invalid_input', 2], args.join(' '));
      assert.match(error.message, message);
    }
  });

  it('without --json stdout stays empty on errors', async () => {
    const ran = await runCli(['job', 'list', '--limit', 'abc'], env);
    assert.equal(ran.status, 2);
    assert.equal(ran.stdout, '');
  });
});
