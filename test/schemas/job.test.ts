import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import {
  InvalidJobError,
  UNSUPPORTED_MASH_FIELDS,
  formatIssues,
  parseJob,
  type ReleaseJob,
} from '../../schemas/job/index.js';
import type { CloudName } from '../../schemas/steps.js';
import { issueAt, issuesOf } from '../support/job-issues.js';

const exampleDoc = (name: string) =>
  JSON.parse(
    readFileSync(fileURLToPath(new URL(`../../../examples/jobs/${name}`, import.meta.url)), 'utf8'),
  ) as Record<string, unknown>;

const minimal = {
  cloud_image_name: 'sles-15-v{date}',
  image_description: 'SLES 15',
  download_url: 'https://download.example/images/',
  image: 'SLES15-EC2',
};

function accepted(doc: unknown, cloud?: CloudName): ReleaseJob {
  const result = parseJob(doc, cloud);
  assert.ok(
    result.ok,
    `expected the document to be accepted, got:\n${result.ok ? '' : formatIssues(result.issues)}`,
  );
  return result.job;
}

describe('local job documents', () => {
  it('accepts the demo example and applies every default', () => {
    const job = accepted(exampleDoc('local-demo.json'));
    assert.equal(job.cloud, 'local');
    assert.equal(job.cloud_account, 'demo');
    assert.deepEqual(job.additional_regions, ['local-2', 'local-3', 'local-4']);
    assert.equal(job.conditions_wait_time, 900);
    assert.deepEqual(job.boot_firmware, ['bios']);
    assert.equal(job.download_type, 'OBS');
    assert.deepEqual(job.disallow_licenses, []);
    assert.equal(job.allow_copy, false);
    assert.equal(job.on_failure, 'block');
    assert.equal(job.block_timeout, 604800, 'a blocked release waits 7 days by default');
  });

  it('refuses a block_timeout under a minute and an unknown on_failure', () => {
    const result = parseJob({ ...minimal, block_timeout: 59, on_failure: 'retry' }, 'local');
    assert.ok(!result.ok);
    assert.deepEqual(result.issues.map((i) => i.path).sort(), ['$.block_timeout', '$.on_failure']);
  });

  it('fills in the cloud from the argument and defaults a minimal document', () => {
    const job = accepted(minimal, 'local');
    assert.deepEqual(job, {
      ...minimal,
      cloud: 'local',
      last_service: 'deprecate',
      utctime: 'now',
      use_build_time: false,
      download_type: 'OBS',
      cloud_architecture: 'x86_64',
      conditions: [],
      conditions_wait_time: 900,
      disallow_packages: [],
      disallow_licenses: [],
      boot_firmware: ['bios'],
      tests: [],
      cloud_account: 'local',
      region: 'local-1',
      additional_regions: [],
      force_replace_image: false,
      share_with: 'none',
      allow_copy: false,
      on_failure: 'block',
      block_reminder: 86400,
      block_timeout: 604800,
      on_block_timeout: 'abort',
    });
  });

  it('accepts a mash job document as it is, with the fields mash sets for itself', () => {
    const job = accepted(
      {
        job_id: '12345678-1234-1234-1234-123456789012',
        requesting_user: 'user1',
        last_service: 'publish',
        utctime: '2026-11-25T06:00:00.142Z',
        image: 'openSUSE-Leap-15.0-EC2-HVM',
        cloud_image_name: 'openSUSE-Leap-15.0-v{date}-hvm-ssd-x86_64',
        old_cloud_image_name: 'openSUSE-Leap-15.0-v20190313-hvm-ssd-x86_64',
        image_description: 'openSUSE Leap 15.0 (HVM, 64-bit, SSD-Backed)',
        download_url: 'https://download.opensuse.org/repositories/Cloud:/Images:/Leap_15.0/images/',
        download_type: 'OBS',
        conditions: [{ package_name: 'openssl', version: '13.4.3', release: '1.1' }, { version: '8.13.21' }],
        conditions_wait_time: 500,
        disallow_licenses: ['MIT'],
        disallow_packages: ['*-mini'],
        distro: 'sles',
        instance_type: 't2.micro',
        ssh_user: 'root',
        notification_email: 'test@fake.com',
        notify: true,
        dry_run: false,
        cleanup_images: true,
        cloud_architecture: 'aarch64',
        boot_firmware: ['uefi-preferred', 'bios'],
      },
      'local',
    );
    assert.equal(job.last_service, 'publish');
    assert.equal(job.utctime, '2026-11-25T06:00:00.142Z');
    assert.equal(job.conditions.length, 2);
  });

  it('reads an empty boot_firmware list as bios, as mash does', () => {
    assert.deepEqual(accepted({ ...minimal, boot_firmware: [] }, 'local').boot_firmware, ['bios']);
  });

  it('reports every problem at once, each with its JSON path, in document order', () => {
    const issues = issuesOf(
      {
        cloud_architecture: 'sparc',
        conditions: [{ condition: '~=', version: '1' }, {}, { package_name: 'kernel-default', pakage: 'x' }],
        last_service: 'cleanup',
        utctime: 'tomorrow',
        cloud_image_name: 'sles-{date}-{build}',
        raw_image_upload_type: 'azure_sas',
        raw_image_upload_location: 'images/raw/',
        raw_image_upload_account: 'azure-pub',
        cloud_acount: 'typo',
        region: 'local-1',
        additional_regions: ['local-2', 'local-1', 'local-2', 'Local_3'],
        download_type: 'HTTP',
        share_with: 'everyone',
        billing_codes: 'bp-1',
        notification_email: 'nobody',
        conditions_wait_time: -5,
        frobnicate: true,
      },
      'local',
    );
    assert.deepEqual(
      issues.map((i) => i.path),
      [
        '$.cloud_architecture',
        '$.conditions[0].condition',
        '$.conditions[1]',
        '$.conditions[2].pakage',
        '$.last_service',
        '$.utctime',
        '$.cloud_image_name',
        '$.raw_image_upload_type',
        '$.cloud_acount',
        '$.additional_regions[1]',
        '$.additional_regions[2]',
        '$.additional_regions[3]',
        '$.download_type',
        '$.share_with',
        '$.billing_codes',
        '$.notification_email',
        '$.conditions_wait_time',
        '$.frobnicate',
        // missing required fields come after the document's own, in schema order
        '$.image',
        '$.download_url',
        '$.image_description',
      ],
    );
    assert.equal(issueAt(issues, '$.cloud_architecture'), 'expected one of "x86_64", "aarch64", got string "sparc"');
    assert.match(issueAt(issues, '$.conditions[0].condition'), /">="/);
    assert.equal(
      issueAt(issues, '$.conditions[1]'),
      'a condition needs at least one of package_name, version or release',
    );
    assert.equal(issueAt(issues, '$.conditions[2].pakage'), 'unknown field "pakage"');
    assert.match(issueAt(issues, '$.last_service'), /"deprecate"/);
    assert.equal(
      issueAt(issues, '$.utctime'),
      '"tomorrow" is neither "now", "always" nor an RFC 3339 timestamp like 2026-11-25T06:00:00Z',
    );
    assert.equal(
      issueAt(issues, '$.cloud_image_name'),
      'unknown placeholder {build}: use {date}, {version} or {release}',
    );
    assert.match(issueAt(issues, '$.raw_image_upload_type'), /^"azure_sas" puts a SAS token \(a secret\) into the job document/);
    assert.equal(
      issueAt(issues, '$.cloud_acount'),
      'unknown field "cloud_acount" (did you mean "cloud_account"?)',
    );
    assert.equal(issueAt(issues, '$.additional_regions[1]'), '"local-1" is the home region (region) already');
    assert.equal(issueAt(issues, '$.additional_regions[2]'), '"local-2" is listed twice');
    assert.match(issueAt(issues, '$.additional_regions[3]'), /lower-case letters/);
    assert.equal(issueAt(issues, '$.download_type'), 'expected one of "OBS", "S3", got string "HTTP"');
    assert.equal(issueAt(issues, '$.share_with'), 'use "all", "none" or a list of account names; got string "everyone"');
    assert.equal(
      issueAt(issues, '$.billing_codes'),
      'mash field "billing_codes" belongs to ec2 jobs; local jobs do not have it',
    );
    assert.equal(issueAt(issues, '$.frobnicate'), 'unknown field "frobnicate"');
    for (const path of ['$.image', '$.download_url', '$.image_description'])
      assert.equal(issueAt(issues, path), 'required');
  });

  it('refuses every mash field it does not support yet by name', () => {
    // download_account, the last one, came with download_type "S3": none is left for now.
    assert.deepEqual(UNSUPPORTED_MASH_FIELDS, []);
    assert.equal(
      issueAt(issuesOf({ ...minimal, download_account: 'x' }, 'local'), '$.download_account'),
      'only with download_type "S3", whose object it reads',
    );
  });

  it('accepts the timestamps mash accepts and refuses local times and other words', () => {
    for (const utctime of ['2026-11-25T06:00:00Z', '2026-11-25T06:00:00.5+01:00'])
      assert.equal(accepted({ ...minimal, utctime }, 'local').utctime, utctime);
    for (const utctime of ['2026-11-25T06:00:00', 'tomorrow', '']) {
      assert.match(
        issueAt(issuesOf({ ...minimal, utctime }, 'local'), '$.utctime'),
        /neither "now", "always" nor an RFC 3339 timestamp/,
      );
    }
  });

  it('takes http, https and file download URLs only', () => {
    assert.ok(parseJob({ ...minimal, download_url: 'file:///srv/images/' }, 'local').ok);
    assert.match(
      issueAt(issuesOf({ ...minimal, download_url: 'ftp://example/' }, 'local'), '$.download_url'),
      /http:\/\/, https:\/\/ or file:\/\//,
    );
  });

  it('names the placeholder it does not know, each one', () => {
    const issues = issuesOf({ ...minimal, cloud_image_name: 'x-{Date}-{}-{version}' }, 'local');
    assert.deepEqual(
      issues.map((i) => i.message),
      [
        'unknown placeholder {Date}: use {date}, {version} or {release}',
        'unknown placeholder {}: use {date}, {version} or {release}',
      ],
    );
  });

  it('quotes keys that are not identifiers in JSON paths', () => {
    assert.equal(issuesOf({ ...minimal, 'odd key': 1 }, 'local')[0]!.path, '$["odd key"]');
  });
});

describe('the cloud of a job', () => {
  it('needs one, from the document or the argument, and it must be one Imagecast knows', () => {
    assert.match(issueAt(issuesOf(minimal), '$.cloud'), /say which cloud: local, ec2, gce, azure/);
    assert.match(issueAt(issuesOf({ ...minimal, cloud: 'oci' }), '$.cloud'), /unknown cloud "oci"/);
    assert.deepEqual(issuesOf([1, 2]), [{ path: '$', message: 'a job document must be a JSON object' }]);
  });

  it('reports a document for another cloud together with its other problems', () => {
    const issues = issuesOf({ ...minimal, cloud: 'ec2', image: '' }, 'local');
    assert.equal(issueAt(issues, '$.cloud'), 'the document says "ec2" but the job is for local');
    assert.ok(issueAt(issues, '$.image'));
  });

  it('takes an azure job like any other cloud\'s: checked in full, refused only for what Imagecast cannot do yet', () => {
    const azure = { ...minimal, cloud: 'azure', cloud_account: 'az', last_service: 'replicate' };
    assert.equal(parseJob(azure).ok, true);
    assert.deepEqual(issuesOf({ ...azure, last_service: 'publish', offer_id: 'o', sku: 's' }).map((i) => i.path), ['$.last_service']);
  });

  it('accepts the mash EC2 example as it is', () => {
    const result = parseJob(exampleDoc('mash-ec2.json'));
    assert.ok(result.ok, result.ok ? '' : JSON.stringify(result.issues));
  });
});

describe('InvalidJobError', () => {
  it('holds the issues and lists them one per line', () => {
    const issues = [
      { path: '$.image', message: 'required' },
      { path: '$.foo', message: 'unknown field "foo"' },
    ];
    const error = new InvalidJobError(issues);
    assert.equal(error.name, 'InvalidJobError');
    assert.deepEqual(error.issues, issues);
    assert.equal(error.message, 'invalid job document:\n$.image: required\n$.foo: unknown field "foo"');
  });
});
