// mash's raw_image_upload_* and additional_uploads fields: accepted together, planned, and
// refused with the field, what was expected and what was given.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { formatIssues, parseJob } from '../../schemas/job/index.js';
import { ec2Doc, issueAt, issuesOf } from '../support/job-issues.js';
import { objectLocation } from '../../activities/common/raw-upload/object-location.js';

const raw = {
  raw_image_upload_type: 's3bucket',
  raw_image_upload_location: 'my-bucket/prefix/',
  raw_image_upload_account: 'my_aws_account',
};

describe('raw image upload fields', () => {
  it("accepts mash's s3bucket fields and additional_uploads on every cloud", () => {
    for (const cloud of ['ec2', 'local'] as const) {
      const result = parseJob({ ...ec2Doc, ...raw, additional_uploads: ['sha256', 'sha256.asc'] }, cloud);
      assert.ok(result.ok, result.ok ? '' : formatIssues(result.issues));
      assert.equal(result.job.raw_image_upload_type, 's3bucket');
      assert.deepEqual(result.job.additional_uploads, ['sha256', 'sha256.asc']);
    }
    for (const [type, location] of [
      ['gcs', 'bucket/x/'],
      ['azure_blob', 'imagecastsa/images'],
    ]) {
      assert.ok(
        parseJob(
          { ...ec2Doc, ...raw, raw_image_upload_type: type, raw_image_upload_location: location },
          'ec2',
        ).ok,
        type,
      );
    }
  });

  it('names the field, what it expects and what it got', () => {
    const issues = issuesOf(
      { ...ec2Doc, ...raw, raw_image_upload_type: 's3', additional_uploads: ['md5'] },
      'ec2',
    );
    assert.equal(
      issueAt(issues, '$.raw_image_upload_type'),
      'expected one of "s3bucket", "gcs", "azure_blob", got string "s3"',
    );
    assert.equal(
      issueAt(issues, '$.additional_uploads[0]'),
      'expected one of "sha256", "sha256.asc", "sha512", "packages", got string "md5"',
    );
    const url = issuesOf({ ...ec2Doc, ...raw, raw_image_upload_location: 's3://my-bucket/x' }, 'ec2');
    assert.match(
      issueAt(url, '$.raw_image_upload_location'),
      /BUCKET, BUCKET\/PREFIX\/ or BUCKET\/KEY.*without a scheme/,
    );
  });

  it("refuses mash's azure_sas: its SAS token would be a secret in the job", () => {
    const issues = issuesOf({ ...ec2Doc, ...raw, raw_image_upload_type: 'azure_sas' }, 'ec2');
    assert.match(issueAt(issues, '$.raw_image_upload_type'), /SAS token \(a secret\).*use "azure_blob"/);
  });

  it('needs a location and an account with a type, a type with the others, and no suffix twice', () => {
    const missing = issuesOf({ ...ec2Doc, raw_image_upload_type: 'gcs' }, 'ec2');
    assert.match(
      issueAt(missing, '$.raw_image_upload_location'),
      /^required: raw_image_upload_type "gcs" needs it/,
    );
    assert.match(issueAt(missing, '$.raw_image_upload_account'), /^required/);
    const orphan = issuesOf(
      { ...ec2Doc, raw_image_upload_location: 'b/', additional_uploads: ['sha256'] },
      'local',
    );
    assert.equal(
      issueAt(orphan, '$.raw_image_upload_location'),
      'only with raw_image_upload_type, which says where it goes',
    );
    assert.equal(
      issueAt(orphan, '$.additional_uploads'),
      'only with raw_image_upload_type, which says where it goes',
    );
    const twice = issuesOf({ ...ec2Doc, ...raw, additional_uploads: ['sha256', 'sha256'] }, 'ec2');
    assert.equal(issueAt(twice, '$.additional_uploads[1]'), '"sha256" is listed twice');
    const azure = issuesOf(
      { ...ec2Doc, ...raw, raw_image_upload_type: 'azure_blob', raw_image_upload_location: 'onlyaccount' },
      'ec2',
    );
    assert.match(
      issueAt(azure, '$.raw_image_upload_location'),
      /STORAGE_ACCOUNT\/CONTAINER.*got string "onlyaccount"/,
    );
  });

  it("names objects as mash does: image name plus the file's last two suffixes, under a prefix, or the key given", () => {
    const file = 'SLES15.x86_64-1.0.0-Build1.2.raw.xz';
    const at = (location: string, type: 's3bucket' | 'azure_blob' = 's3bucket') =>
      objectLocation(type, location, file, 'sles-15-v20261206', '20261206');
    assert.deepEqual(at('bucket'), { bucket: 'bucket', key: 'sles-15-v20261206.raw.xz' });
    assert.deepEqual(at('bucket/a/{date}/'), {
      bucket: 'bucket',
      key: 'a/20261206/sles-15-v20261206.raw.xz',
    });
    assert.deepEqual(at('bucket/exact/name.raw.xz'), { bucket: 'bucket', key: 'exact/name.raw.xz' });
    assert.deepEqual(at('sa/container/p/', 'azure_blob'), {
      bucket: 'sa/container',
      key: 'p/sles-15-v20261206.raw.xz',
    });
  });
});
