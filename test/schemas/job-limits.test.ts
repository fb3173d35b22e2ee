import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parseJob } from '../../schemas/job/index.js';
import { LIMITS } from '../../schemas/job/limits.js';
import { ec2Doc, issueAt, issuesOf } from '../support/job-issues.js';

describe('job document limits', () => {
  it('refuses a document over 256 KiB with its size, before looking at its fields', () => {
    const doc = { ...ec2Doc, image_description: 'x'.repeat(3 * 1024 * 1024) };
    const bytes = Buffer.byteLength(JSON.stringify({ ...doc }));
    assert.deepEqual(issuesOf(doc, 'ec2'), [
      { path: '$', message: `the document is ${bytes} bytes of JSON; the limit is 262144 (256 KiB)` },
    ]);
    const justUnder = { ...ec2Doc, cloud_account: 'demo', disallow_packages: Array.from({ length: 999 }, () => 'p'.repeat(255)) };
    assert.ok(Buffer.byteLength(JSON.stringify(justUnder)) < LIMITS.documentBytes);
    assert.ok(parseJob(justUnder, 'local').ok);
  });

  it('survives 200 000 unknown fields and nesting too deep for JSON', () => {
    const wide: Record<string, unknown> = { ...ec2Doc };
    for (let i = 0; i < 200_000; i++) wide[`field${i}`] = 1;
    assert.match(issueAt(issuesOf(wide, 'ec2'), '$'), /^the document is \d+ bytes of JSON; the limit is 262144/);
    let deep: unknown = [];
    for (let i = 0; i < 1_000_000; i++) deep = [deep];
    assert.match(issueAt(issuesOf({ ...ec2Doc, tests: deep }, 'ec2'), '$'), /^a job document must be plain JSON; this one cannot be serialised/);
  });

  it('lists the first 100 problems and counts the rest', () => {
    const many: Record<string, unknown> = { ...ec2Doc };
    for (let i = 0; i < 150; i++) many[`field${i}`] = 1;
    const issues = issuesOf(many, 'ec2');
    assert.equal(issues.length, LIMITS.reportedProblems + 1);
    assert.deepEqual(issues.at(-1), { path: '$', message: '… and 50 more problems (only the first 100 are listed)' });
  });

  it("holds EC2 fields to EC2's own limits", () => {
    const issues = issuesOf(
      { ...ec2Doc, image_description: 'd'.repeat(256), cloud_image_name: 'sles:15 {date}' },
      'ec2',
    );
    assert.equal(issueAt(issues, '$.image_description'), 'must be at most 255 characters long, got 256');
    assert.equal(
      issueAt(issues, '$.cloud_image_name'),
      `an AMI name has only letters, digits and ( ) [ ] space . / - ' @ _; this one has ":"`,
    );
    assert.equal(
      issueAt(issuesOf({ ...ec2Doc, cloud_image_name: `${'n'.repeat(121)}{date}` }, 'ec2'), '$.cloud_image_name'),
      'an AMI name is 3–128 characters long; this one is at least 129 (with {date} as 8 digits)',
    );
    assert.equal(issueAt(issuesOf({ ...ec2Doc, cloud_image_name: 'ab' }, 'ec2'), '$.cloud_image_name'), 'an AMI name is 3–128 characters long; this one is at least 2 (with {date} as 8 digits)');
    assert.ok(parseJob({ ...ec2Doc, cloud_image_name: `${'n'.repeat(120)}{date}`, image_description: 'd'.repeat(255) }, 'ec2').ok);
    // The local cloud has no such rule: its names and descriptions have the general limits.
    assert.ok(parseJob({ ...ec2Doc, cloud_account: 'demo', image_description: 'd'.repeat(1024) }, 'local').ok);
    assert.equal(
      issueAt(issuesOf({ ...ec2Doc, cloud_account: 'demo', image_description: 'd'.repeat(1025) }, 'local'), '$.image_description'),
      'must be at most 1024 characters long, got 1025',
    );
  });

  it('bounds image_tags as EC2 does: 45 of ours (50 less the 5 Imagecast sets), keys without aws: or imagecast:', () => {
    const tags = (n: number) => Array.from({ length: n }, (_, i) => ({ Key: `k${i}`, Value: 'v' }));
    assert.ok(parseJob({ ...ec2Doc, image_tags: tags(45) }, 'ec2').ok);
    assert.equal(issueAt(issuesOf({ ...ec2Doc, image_tags: tags(46) }, 'ec2'), '$.image_tags'), 'must have at most 45 items, got 46');
    const issues = issuesOf({ ...ec2Doc, image_tags: [{ Key: 'aws:x', Value: 'v' }, { Key: 'k'.repeat(128), Value: 'v'.repeat(257) }, { Key: 'k' }] }, 'ec2');
    assert.match(issueAt(issues, '$.image_tags[0].Key'), /must not start with "aws:"/);
    assert.equal(issueAt(issues, '$.image_tags[1].Key'), 'must be at most 127 characters long, got 128');
    assert.equal(issueAt(issues, '$.image_tags[1].Value'), 'must be at most 256 characters long, got 257');
    assert.equal(issueAt(issues, '$.image_tags[2].Value'), 'required');
  });
});
