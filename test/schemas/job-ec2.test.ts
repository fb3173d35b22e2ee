import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parseJob, type JobIssue } from '../../schemas/job/index.js';
import { planRelease } from '../../activities/common/plan-release.js';
import { accountDirectory } from '../../activities/accounts/account-directory.js';
import { ApplicationFailure } from '@temporalio/common';

/** mash's README EC2 example, with the fields mash's EC2 schema adds. */
const mashDoc = {
  boot_firmware: ['uefi-preferred'],
  cloud_account: 'account1',
  cloud_architecture: 'x86_64',
  cloud_image_name: 'openSUSE-Leap-15.0-v{date}-hvm-ssd-x86_64',
  download_url: 'https://download.opensuse.org/repositories/Cloud:/Images:/Leap_15.0/images/',
  image: 'openSUSE-Leap-15.0-EC2-HVM',
  image_description: 'openSUSE Leap 15.0 (HVM, 64-bit, SSD-Backed)',
  last_service: 'publish',
  notification_email: 'test@fake.com',
  notify: true,
  profile: 'EC2',
  utctime: 'now',
};

const keys = {
  access_key_id: 'AKIAIMAGECASTTEST0001',
  secret_access_key: 'imagecast-test-secret-0000000000000000001',
};
const accounts = accountDirectory({
  ec2: [
    {
      name: 'account1',
      region: 'us-east-1',
      additional_regions: ['eu-west-1', 'us-west-2'],
      group: 'g1',
      credentials: keys,
    },
    { name: 'account2', region: 'us-east-2', group: 'g2', credentials: keys },
    { name: 'account3', region: 'us-west-1', group: 'g2', credentials: keys },
    {
      name: 'china',
      partition: 'aws-cn',
      region: 'cn-north-1',
      credentials: { role_arn: 'arn:aws-cn:iam::123456789012:role/imagecast', external_id: 'ext-1' },
    },
  ],
});

function issuesOf(doc: Record<string, unknown>): JobIssue[] {
  const result = parseJob({ cloud: 'ec2', ...doc });
  assert.equal(result.ok, false, 'expected the document to be refused');
  return result.ok ? [] : result.issues;
}

async function planFailure(doc: Record<string, unknown>): Promise<string> {
  const error = await planRelease({ cloud: 'ec2', ...doc }, accounts).then(
    () => assert.fail('expected the plan to be refused'),
    (e: unknown) => e as ApplicationFailure,
  );
  assert.equal(error.nonRetryable, true);
  return error.message;
}

describe('ec2 job documents', () => {
  it("accept mash's README example as it is", () => {
    const result = parseJob({ cloud: 'ec2', ...mashDoc });
    assert.ok(result.ok, result.ok ? '' : JSON.stringify(result.issues));
  });

  it('take mash comma-separated share_with, allow_copy and billing_codes, and refuse malformed ones by field', () => {
    const issues = issuesOf({
      ...mashDoc,
      share_with: '1234,5678',
      allow_copy: 'everyone',
      billing_codes: 'bp-1, bp-2',
    });
    assert.match(issues.find((i) => i.path === '$.share_with')!.message, /12-digit AWS account ids/);
    assert.match(issues.find((i) => i.path === '$.allow_copy')!.message, /"image", "none"/);
    assert.match(issues.find((i) => i.path === '$.billing_codes')!.message, /without spaces/);
  });

  it('need exactly one of cloud_account, cloud_accounts or cloud_groups', () => {
    const { cloud_account: _, ...noAccount } = mashDoc;
    assert.deepEqual(issuesOf(noAccount), [
      {
        path: '$.cloud_account',
        message: 'required: name the account (or use cloud_accounts or cloud_groups)',
      },
    ]);
    assert.deepEqual(issuesOf({ ...mashDoc, cloud_groups: ['g1'] }), [
      { path: '$.cloud_groups', message: 'use either cloud_account or cloud_groups, not both' },
    ]);
  });

  it('refuse NitroTPM without UEFI, bad regions and Marketplace fields, each by name', () => {
    const issues = issuesOf({
      ...mashDoc,
      boot_firmware: ['bios'],
      tpm_support: 'v2.0',
      additional_regions: ['Europe'],
      publish_in_marketplace: true,
    });
    assert.deepEqual(
      issues.map((i) => i.path),
      ['$.boot_firmware', '$.tpm_support', '$.additional_regions[0]', '$.publish_in_marketplace'].filter(
        (p) => issues.some((i) => i.path === p),
      ),
    );
    assert.match(issues.find((i) => i.path === '$.tpm_support')!.message, /NitroTPM needs UEFI/);
    assert.match(issues.find((i) => i.path === '$.additional_regions[0]')!.message, /AWS region name/);
    assert.match(
      issues.find((i) => i.path === '$.publish_in_marketplace')!.message,
      /not supported by Imagecast/,
    );
  });
});

describe('ec2 release plans', () => {
  it("copy to the account's additional regions and the job's, each once, never the home region", async () => {
    const plan = await planRelease(
      {
        cloud: 'ec2',
        ...mashDoc,
        additional_regions: ['us-west-2', { name: 'ap-south-1', helper_image: 'ami-1' }, 'us-east-1'],
      },
      accounts,
    );
    assert.equal(plan.account, 'account1');
    assert.equal(plan.homeRegion, 'us-east-1');
    assert.deepEqual(plan.replicaRegions, ['eu-west-1', 'us-west-2', 'ap-south-1']);
    assert.equal(plan.source.profile, 'EC2');
    assert.deepEqual(plan.imageOptions, {
      cloud: 'ec2',
      uploadMethod: 'ebs_direct',
      rootVolumeSizeGiB: 10,
      enaSupport: true,
      sriovSupport: true,
      tpmSupport: undefined,
      imdsSupport: undefined,
      billingCodes: [],
      copyPermission: 'none',
    });
  });

  it('resolve share_with and allow_copy "image" to the same accounts; skip_replication keeps the home region only', async () => {
    const plan = await planRelease(
      {
        cloud: 'ec2',
        ...mashDoc,
        share_with: '123456789012,210987654321',
        allow_copy: 'image',
        skip_replication: true,
      },
      accounts,
    );
    assert.deepEqual(plan.shareWith, ['123456789012', '210987654321']);
    assert.deepEqual(plan.imageOptions?.cloud === 'ec2' && plan.imageOptions.copyPermission, [
      '123456789012',
      '210987654321',
    ]);
    assert.deepEqual(plan.replicaRegions, []);
  });

  it('take a cloud_accounts entry with its region override, and a group of one account', async () => {
    const { cloud_account: _, ...doc } = mashDoc;
    const plan = await planRelease(
      { cloud: 'ec2', ...doc, cloud_accounts: [{ name: 'account1', region: 'eu-central-1' }] },
      accounts,
    );
    assert.equal(plan.homeRegion, 'eu-central-1');
    assert.deepEqual(plan.replicaRegions, ['eu-west-1', 'us-west-2']);
    assert.equal(
      (await planRelease({ cloud: 'ec2', ...doc, cloud_groups: ['g1'] }, accounts)).account,
      'account1',
    );
  });

  it('plan one child release per account for a group or a list of several, each job narrowed to its account', async () => {
    const { cloud_account: _, ...doc } = mashDoc;
    const grouped = await planRelease({ cloud: 'ec2', ...doc, cloud_groups: ['g2', 'g1'] }, accounts);
    assert.deepEqual(
      grouped.accountReleases?.map((a) => a.account),
      ['account2', 'account3', 'account1'],
    );
    for (const { account, job } of grouped.accountReleases ?? []) {
      assert.deepEqual(job.cloud_accounts, [{ name: account }]);
      assert.equal(job.cloud_groups, undefined);
      // Each narrowed job plans on its own, as one account.
      const child = await planRelease(job, accounts);
      assert.equal(child.account, account);
      assert.equal(child.accountReleases, undefined);
    }
    const listed = await planRelease(
      { cloud: 'ec2', ...doc, cloud_accounts: [{ name: 'account1', region: 'eu-central-1', subnet: 'subnet-1' }, { name: 'account2' }] },
      accounts,
    );
    assert.deepEqual(listed.accountReleases?.[0]?.job.cloud_accounts, [
      { name: 'account1', region: 'eu-central-1', subnet: 'subnet-1' },
    ]);
    assert.equal(listed.homeRegion, 'eu-central-1');
    assert.equal(
      (await planRelease({ cloud: 'ec2', ...doc, cloud_groups: ['g1'] }, accounts)).accountReleases,
      undefined,
      'a group of one account is a plain release',
    );
  });

  it('refuse unknown accounts and groups, an account named twice, and regions outside the partition', async () => {
    assert.match(
      await planFailure({ ...mashDoc, cloud_account: 'nobody' }),
      /no EC2 account named "nobody" \(configured: account1, account2, account3, china\)/,
    );
    const { cloud_account: _, ...doc } = mashDoc;
    assert.match(
      await planFailure({ ...doc, cloud_groups: ['g9'] }),
      /no EC2 account is in group "g9" \(groups: g1, g2\)/,
    );
    assert.match(
      await planFailure({ ...mashDoc, upload_method: 's3_import' }),
      /\$\.upload_method: s3_import needs an S3 bucket, and account "account1" has no import_bucket/,
    );
    assert.match(
      await planFailure({ ...doc, cloud_accounts: [{ name: 'account1' }, { name: 'nobody' }] }),
      /no EC2 account named "nobody"/,
    );
    assert.match(
      await planFailure({ ...doc, cloud_accounts: [{ name: 'account1' }, { name: 'account1' }] }),
      /\$\.cloud_accounts: names account "account1" twice/,
    );
    assert.match(
      await planFailure({ ...doc, cloud_accounts: [{ name: 'account1' }, { name: 'china' }], additional_regions: ['eu-west-1'] }),
      /\$\.cloud_accounts\[1\]: account "china" is in the aws-cn partition, which has no region eu-west-1/,
    );
    assert.match(
      await planFailure({ ...mashDoc, cloud_account: 'china', additional_regions: ['eu-west-1'] }),
      /account "china" is in the aws-cn partition, which has no region eu-west-1/,
    );
  });
});

describe('ec2 accounts', () => {
  it('are refused with every bad field named and no secret echoed', () => {
    const secret = 'do-not-print-this-secret-value-000';
    assert.throws(
      () =>
        accountDirectory({
          ec2: [
            {
              name: 'bad',
              partition: 'aws',
              region: 'cn-north-1',
              credentials: { access_key_id: 'x', secret_access_key: secret },
            },
          ],
        }),
      (error: Error) => {
        assert.match(error.message, /\$\.ec2\[0\]\.credentials/);
        assert.doesNotMatch(error.message, new RegExp(secret));
        return true;
      },
    );
    assert.throws(
      () => accountDirectory({ ec2: [{ name: 'bad', region: 'cn-north-1', credentials: keys }] }),
      /\$\.ec2\[0\]\.region: cn-north-1 is not in the aws partition/,
    );
  });
});
