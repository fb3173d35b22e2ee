// One job, several EC2 accounts: a child release per account on the real dev server, against
// moto behind our shim. The second account is reached the OBS cloud-upload way (AssumeRole
// with an external id, which moto answers with credentials of another moto account) and uses
// upload_method s3_import (S3 multipart + ImportSnapshot, implemented by the shim).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { CreateBucketCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { DescribeImagesCommand, EC2Client } from '@aws-sdk/client-ec2';
import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import { Worker } from '@temporalio/worker';
import proto from '@temporalio/proto';
import { startReleaseHarness, type ReleaseHarness } from '../support/release-harness.js';
import { startAwsEmulator, TEST_KEYS, type AwsEmulator } from '../support/aws-emulator.js';
import { REPLAY_OPTIONS } from '../support/replay-history.js';

const { temporal } = proto;
const PARTNER_ROLE = 'arn:aws:iam::222222222222:role/imagecast-upload';
const PARTNER_EXTERNAL_ID = 'partner-external-id-7f3a';
const PARTNER_BUCKET = 'partner-import';
const keys = { accessKeyId: TEST_KEYS.access_key_id, secretAccessKey: TEST_KEYS.secret_access_key };

describe('release workflow on several EC2 accounts (moto)', () => {
  let aws: AwsEmulator;
  let h: ReleaseHarness;
  let partner: { ec2: EC2Client; s3: S3Client };

  before(async () => {
    aws = await startAwsEmulator('release-ec2-accounts', { group: 'everyone' }, [
      {
        name: 'partner',
        partition: 'aws',
        region: 'eu-central-1',
        group: 'everyone',
        upload_method: 's3_import',
        import_bucket: PARTNER_BUCKET,
        credentials: { role_arn: PARTNER_ROLE, external_id: PARTNER_EXTERNAL_ID },
      },
      {
        name: 'broken',
        partition: 'aws',
        region: 'us-west-2',
        group: 'with-broken',
        upload_method: 's3_import',
        import_bucket: 'no-such-bucket',
        credentials: TEST_KEYS,
      },
    ]);
    partner = await partnerClients(aws.endpoint);
    await partner.s3.send(
      new CreateBucketCommand({
        Bucket: PARTNER_BUCKET,
        CreateBucketConfiguration: { LocationConstraint: 'eu-central-1' },
      }),
    );
    h = await startReleaseHarness('release-ec2-accounts', {
      queues: ['workflows', 'ec2'],
      diskMiB: 16,
      accounts: aws.accounts,
      // Imagecast's own credentials, used only to assume the partner's role.
      providers: { ec2: aws.provider({ baseCredentials: keys }) },
    });
    await h.publish('1');
  });
  after(async () => {
    partner?.ec2.destroy();
    partner?.s3.destroy();
    await h?.stop();
    await aws?.stop();
  });

  const job = (overrides: Record<string, unknown>) => ({
    cloud: 'ec2',
    cloud_image_name: 'accounts-v{date}-b{release}',
    image_description: 'Imagecast multi-account test image',
    download_url: h.buildServer.url,
    image: 'test-image',
    last_service: 'publish',
    utctime: 'now',
    share_with: 'none',
    root_volume_size: 1,
    ...overrides,
  });

  it('releases the same build in every account of a group, one child release each, and the history replays', async () => {
    const { releaseId } = await h.client.startRelease(job({ cloud_groups: ['everyone'] }));
    const done = await h.client.waitForRelease(releaseId, { pollIntervalMs: 200 });
    assert.equal(done.state, 'succeeded', done.error);
    assert.equal(done.account, 'test-aws,partner');
    assert.deepEqual(
      done.accounts?.map((a) => `${a.account}:${a.state}:${a.releaseId}`),
      [`test-aws:succeeded:${releaseId}/test-aws`, `partner:succeeded:${releaseId}/partner`],
    );
    assert.deepEqual(
      done.images.map((i) => `${i.account}/${i.region}`).sort(),
      ['partner/eu-central-1', 'test-aws/eu-west-1', 'test-aws/us-east-1'],
    );
    assert.deepEqual(
      done.steps.map((s) => `${s.name}:${s.state}`),
      [
        'download:succeeded',
        'upload:succeeded',
        'create:succeeded',
        'test:skipped',
        'raw_image_upload:skipped',
        'replicate:succeeded',
        'publish:succeeded',
        'deprecate:skipped',
        'cleanup:succeeded',
      ],
    );

    // Each child released the build the parent chose, under its own account.
    const download = done.steps.find((s) => s.name === 'download')!;
    for (const account of ['test-aws', 'partner']) {
      const child = await h.client.getRelease(`${releaseId}/${account}`);
      assert.equal(child.state, 'succeeded');
      assert.equal(child.account, account);
      assert.equal(child.imageName, done.imageName);
      assert.equal(child.steps[0]!.produced?.[0], download.produced?.[0]);
      assert.match(child.steps[0]!.detail ?? '', new RegExp(`chosen by release ${releaseId}`));
      const summary = await (await h.client.temporal.workflow.getHandle(`${releaseId}/${account}`).describe()).staticSummary();
      assert.equal(summary, `release ${done.imageName} · ec2/${account} (one account of ${releaseId})`);
    }

    // The partner's AMI is in the partner's (moto) account, reached with its role and external id.
    const { Images } = await partner.ec2.send(
      new DescribeImagesCommand({ Owners: ['self'], Filters: [{ Name: 'name', Values: [done.imageName] }] }),
    );
    assert.equal(Images?.length, 1);
    assert.equal(Images![0]!.OwnerId, '222222222222');
    assert.equal((await aws.imagesNamed('eu-central-1', done.imageName)).length, 0, 'not in our own account');
    const assumed = aws.shim.calls('sts:AssumeRole');
    assert.ok(assumed.length >= 1);
    assert.ok(assumed.every((c) => c.params.RoleArn === PARTNER_ROLE && c.params.ExternalId === PARTNER_EXTERNAL_ID));
    // The partner uploaded through S3 and ImportSnapshot; the staged object is gone.
    const imports = aws.shim.calls('ImportSnapshot');
    assert.deepEqual(imports.map((c) => c.region), ['eu-central-1']);
    const staged = await partner.s3.send(new ListObjectsV2Command({ Bucket: PARTNER_BUCKET }));
    assert.equal(staged.KeyCount ?? 0, 0);

    // The new code path (parent + children) replays deterministically from its real history.
    for (const id of [releaseId, `${releaseId}/partner`]) {
      const history = await h.client.temporal.workflow.getHandle(id).fetchHistory();
      await Worker.runReplayHistory(REPLAY_OPTIONS, history, id);
      const dir = process.env.IMAGECAST_RECORD_HISTORY_DIR;
      if (dir) {
        const name = id === releaseId ? 'release-ec2-accounts-parent' : 'release-ec2-accounts-child';
        await writeFile(join(dir, `${name}.binpb`), temporal.api.history.v1.History.encode(history).finish());
        await writeFile(join(dir, `${name}.workflow-id`), `${id}\n`);
      }
    }
  });

  it('fails naming the account that failed; the other account is released and the failed one left clean', async () => {
    const { releaseId } = await h.client.startRelease(
      job({ cloud_groups: ['with-broken', 'everyone'], cloud_image_name: 'accounts-broken-v{date}-b{release}' }),
    );
    const done = await h.client.waitForRelease(releaseId, { pollIntervalMs: 200 });
    assert.equal(done.state, 'failed');
    assert.match(done.error ?? '', /account broken: .*NoSuchBucket/);
    assert.match(done.error ?? '', /released in test-aws, partner; start a job for the failed accounts only/);
    const broken = done.accounts?.find((a) => a.account === 'broken');
    assert.equal(broken?.state, 'failed');
    const child = await h.client.getRelease(`${releaseId}/broken`);
    assert.equal(child.state, 'failed');
    assert.equal(child.steps.find((s) => s.name === 'upload')?.state, 'failed');
    assert.equal((await aws.imagesNamed('us-west-2', done.imageName)).length, 0, 'nothing released in the failed account');
    assert.equal((await aws.imagesNamed('us-east-1', done.imageName)).length, 1, 'released in test-aws');
  });
});

/** Clients acting as the partner account: the role assumed the way Imagecast assumes it. */
async function partnerClients(endpoint: string): Promise<{ ec2: EC2Client; s3: S3Client }> {
  const sts = new STSClient({ region: 'eu-central-1', endpoint, credentials: keys });
  const { Credentials: c } = await sts.send(
    new AssumeRoleCommand({ RoleArn: PARTNER_ROLE, RoleSessionName: 'test', ExternalId: PARTNER_EXTERNAL_ID }),
  );
  sts.destroy();
  const credentials = { accessKeyId: c!.AccessKeyId!, secretAccessKey: c!.SecretAccessKey!, sessionToken: c!.SessionToken };
  return {
    ec2: new EC2Client({ region: 'eu-central-1', endpoint, credentials }),
    s3: new S3Client({ region: 'eu-central-1', endpoint, forcePathStyle: true, credentials }),
  };
}
