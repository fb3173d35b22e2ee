// `imagecast trust` as people run it: the compiled CLI against a real PostgreSQL.
import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { runCli } from '../../support/cli-process.js';
import { freshDatabaseUrl } from '../../support/stack.js';

describe('imagecast trust (CLI, PostgreSQL)', () => {
  let env: NodeJS.ProcessEnv;
  before(async () => {
    env = { ...process.env, IMAGECAST_DATABASE_URL: await freshDatabaseUrl('cli-trust') };
  });
  const trust = (...args: string[]) => runCli(['trust', ...args], env);
  const github = ['--issuer', 'https://token.actions.githubusercontent.com', '--audience', 'https://imagecast.example:8443'];

  it('adds, lists, shows and deletes a policy, with --json', async () => {
    const added = await trust('add', ...github, '--claim', 'repository=org/images', '--claim', 'ref=refs/heads/main',
      '--scope', 'release:ec2:sles-prod', '--image-prefix', 'sles-15', '--max-ttl', '1h', '--json');
    assert.equal(added.status, 0, added.stderr);
    const policy = JSON.parse(added.stdout) as { id: string; claims: Record<string, string>; maxTtlSeconds: number; scope: string };
    assert.match(policy.id, /^tp_[0-9a-f]{10}$/);
    assert.deepEqual(policy.claims, { repository: 'org/images', ref: 'refs/heads/main' });
    assert.equal(policy.maxTtlSeconds, 3600);

    const listed = await trust('list');
    assert.equal(listed.status, 0, listed.stderr);
    assert.match(listed.stdout, new RegExp(`${policy.id}  release:ec2:sles-prod  https://token.actions.githubusercontent.com \\(aud https://imagecast.example:8443\\)  ref=refs/heads/main repository=org/images  prefix sles-15, max ttl 3600 s`));
    const listedJson = await trust('list', '--json');
    assert.deepEqual((JSON.parse(listedJson.stdout) as Array<{ id: string }>).map((p) => p.id), [policy.id]);

    const shown = await trust('show', policy.id);
    assert.match(shown.stdout, /claims: +ref=refs\/heads\/main repository=org\/images/);
    assert.match(shown.stdout, /jwks: +\(from the issuer's discovery document\)/);

    const deleted = await trust('delete', policy.id, '--json');
    assert.deepEqual(JSON.parse(deleted.stdout), { deleted: policy.id });
    assert.equal((await trust('list')).stdout.trim(), 'no trust policies');
  });

  it('refuses bad input with exit code 2, naming the flag, what was expected and what was given', async () => {
    const cases: Array<[string[], RegExp]> = [
      [['add', ...github, '--scope', 'release:ec2:x'], /--claim: at least one is required/],
      [['add', ...github, '--scope', 'release:ec2:x', '--claim', 'repository=*'], /the pattern "\*" would match anything/],
      [['add', ...github, '--scope', 'ec2', '--claim', 'repository=o/r'], /--scope: "ec2" is not release:<cloud>:<account-or-group>/],
      [['add', '--issuer', 'http://issuer.example', '--audience', 'a', '--scope', 'release:ec2:x', '--claim', 'repository=o/r'], /--issuer: expected an https URL \(http only on loopback\), got "http:\/\/issuer.example"/],
      [['add', ...github, '--scope', 'release:ec2:x', '--claim', 'repository=o/r', '--max-ttl', 'soon'], /--max-ttl|soon/],
      [['show', 'tp_missing'], /no trust policy with id tp_missing/],
    ];
    for (const [args, message] of cases) {
      const ran = await trust(...args);
      assert.equal(ran.status, 2, `${args.join(' ')}: ${ran.stderr}`);
      assert.match(ran.stderr, message, args.join(' '));
    }
    const json = await trust('show', 'tp_missing', '--json');
    assert.equal(json.status, 2);
    assert.equal((JSON.parse(json.stdout) as { error: { code: string } }).error.code, 'invalid_input');
  });
});
