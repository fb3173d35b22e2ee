import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { formatIssues } from '../../schemas/job/index.js';
import { ec2AccountSchema } from '../../schemas/accounts.js';
import { retirementPolicySchema } from '../../schemas/retirement-policy.js';
import { workerConfigSchema, WORKER_QUEUES } from '../../schemas/config.js';
import { ec2Doc, issueAt, issuesOf } from '../support/job-issues.js';

describe('job validation messages', () => {
  it('say what was expected and what was given for a present but wrong value, and "required" only for a missing one', () => {
    const issues = issuesOf({ ...ec2Doc, image: 1234, notify: 'yes', cloud_account: 42, allow_copy: false }, 'ec2');
    // In document order: cloud_account comes first in ec2Doc.
    assert.deepEqual(issues, [
      { path: '$.cloud_account', message: 'expected a string, got number 42' },
      { path: '$.image', message: 'expected a string, got number 1234' },
      { path: '$.notify', message: 'expected a boolean (true or false), got string "yes"' },
      { path: '$.allow_copy', message: 'expected a string, got boolean false' },
    ]);
    const { image: _image, ...withoutImage } = ec2Doc;
    assert.deepEqual(issuesOf(withoutImage, 'ec2'), [{ path: '$.image', message: 'required' }]);
    assert.equal(issueAt(issuesOf({ ...ec2Doc, image: null }, 'ec2'), '$.image'), 'expected a string, got null');
  });

  it('name numbers out of range, lists too short and unknown values with what was given', () => {
    const issues = issuesOf(
      { ...ec2Doc, root_volume_size: 0, conditions_wait_time: 1.5, cloud_architecture: 'x86-64', disallow_packages: [''] },
      'ec2',
    );
    assert.equal(issueAt(issues, '$.root_volume_size'), 'must be at least 1, got 0');
    assert.equal(issueAt(issues, '$.conditions_wait_time'), 'expected an integer, got number 1.5');
    assert.equal(issueAt(issues, '$.disallow_packages[0]'), 'must not be empty');
    const { cloud_account: _account, ...noAccount } = ec2Doc;
    assert.equal(issueAt(issuesOf({ ...noAccount, cloud_groups: [] }, 'ec2'), '$.cloud_groups'), 'must have at least 1 item, got 0');
    assert.equal(
      issueAt(issues, '$.cloud_architecture'),
      'expected one of "x86_64", "aarch64", got string "x86-64" (did you mean "x86_64"?)',
    );
  });

  it('give each test entry its exact problem, and name the valid tests', () => {
    const issues = issuesOf(
      {
        ...ec2Doc,
        tests: ['test_hostnme', { name: 'no-command' }, { name: 'numeric', command: 5 }, 7, { name: 'x', command: 'true', expect_exit_code: 256 }],
      },
      'ec2',
    );
    assert.match(
      issueAt(issues, '$.tests[0]'),
      /^unknown test "test_hostnme" \(did you mean "test_hostname"\?\): the named tests are test_hostname, test_sles, .*; a test of your own is \{name, command, …\}$/,
    );
    assert.equal(issueAt(issues, '$.tests[1].command'), 'required');
    assert.equal(issueAt(issues, '$.tests[2].command'), 'expected a string, got number 5');
    assert.equal(issueAt(issues, '$.tests[3]'), 'expected a named test (a string) or {name, command, …}, got number 7');
    assert.equal(issueAt(issues, '$.tests[4].expect_exit_code'), 'must be at most 255, got 256');
    assert.equal(issues.length, 5, formatIssues(issues));
  });

  it('pick the alternative a value was meant for in other unions too', () => {
    const issues = issuesOf({ ...ec2Doc, additional_regions: ['eu-west-1', 'Mars', { name: 'eu-west-2', helper_imag: 'x' }, 5] }, 'ec2');
    assert.equal(
      issueAt(issues, '$.additional_regions[1]'),
      'an AWS region name such as us-east-1, cn-north-1 or us-gov-west-1; got string "Mars"',
    );
    assert.equal(
      issueAt(issuesOf({ ...ec2Doc, profile: 'Pro xy' }, 'ec2'), '$.profile'),
      'a kiwi profile name: letters, digits, "_", "." and "+"; got string "Pro xy"',
    );
    assert.equal(issueAt(issues, '$.additional_regions[2].helper_imag'), 'unknown field "helper_imag" (did you mean "helper_image"?)');
    assert.equal(issueAt(issues, '$.additional_regions[3]'), 'expected a string or an object, got number 5');
  });

  it('list every problem of the shared fields of a document that names no cloud (as mash documents do)', () => {
    const issues = issuesOf({ image: 5, download_url: 'ftp://x/', tests: ['nope'], image_tags: [], additional_uploads: ['x.sha256'] });
    assert.equal(issueAt(issues, '$.additional_uploads[0]'), 'expected one of "sha256", "sha256.asc", "sha512", "packages", got string "x.sha256" (did you mean "sha256"?)');
    assert.equal(issues[0]!.path, '$.cloud');
    assert.match(issues[0]!.message, /^say which cloud/);
    assert.equal(issueAt(issues, '$.image'), 'expected a string, got number 5');
    assert.match(issueAt(issues, '$.download_url'), /http:\/\/, https:\/\/ or file:\/\//);
    assert.match(issueAt(issues, '$.tests[0]'), /^unknown test "nope"/);
    for (const path of ['$.cloud_image_name', '$.image_description']) assert.equal(issueAt(issues, path), 'required');
    // Which fields a cloud has is unknown without the cloud: cloud-specific ones are not judged.
    assert.equal(issues.filter((i) => i.path.startsWith('$.image_tags')).length, 0);
  });

  it('word account, configuration and retirement policy problems the same way, telling no value (they hold secrets)', () => {
    const secret = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY';
    const account = ec2AccountSchema.safeParse({ name: 'a', region: 5, credentials: { access_key_id: 12345678901234567890, secret_access_key: secret }, partition: secret });
    const messages = account.error?.issues.map((i) => `${i.path.join('.')}: ${i.message}`) ?? [];
    assert.ok(messages.includes('region: expected a string, got a number'), messages.join('\n'));
    assert.ok(messages.some((m) => m.startsWith('partition: expected one of "aws", "aws-cn", "aws-us-gov", got a string')), messages.join('\n'));
    assert.ok(!messages.join('\n').includes(secret) && !messages.join('\n').includes('12345678901234567890'), 'no value is echoed');
    const policy = retirementPolicySchema.safeParse({ cloud: 'ec2', account: 'a', image_line: 'x', keep: 'two' });
    assert.deepEqual(policy.error?.issues.map((i) => i.message), ['expected a number, got a string']);
    const config = workerConfigSchema.safeParse({ databaseUrl: 'postgres://x/y', queues: ['ec3'], ec2PollMs: 5 });
    assert.deepEqual(config.error?.issues.map((i) => i.message), [
      // A queue name is no secret: the one given is told.
      `expected one of ${WORKER_QUEUES.map((q) => `"${q}"`).join(', ')}, got string "ec3" (did you mean "ec2"?)`,
      'must be at least 10',
    ]);
  });
});
