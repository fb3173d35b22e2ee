// A keyless EC2 release (role_arn + web_identity_token_file) whose credentials expire every
// few seconds, through the real worker binary, against moto behind our shim. STS will not
// issue sessions shorter than 15 minutes, so the worker is told to renew them when less than
// 900 - RENEW_EVERY_S seconds are left (IMAGECAST_AWS_CREDENTIALS_RENEW_BEFORE_SECONDS), and
// the shim refuses, as AWS would, any request signed with credentials older than LIFETIME_S.
// The upload and the copy each outlive several such lives: the release only finishes if the
// SDK clients take renewed credentials in the middle of an activity.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ManagedProcess } from '../../infra/devstack/child-process.js';
import type { RecordedCall } from '../../infra/devstack/ec2-shim.js';
import { startWorkerProcess } from '../support/worker-process.js';
import { startReleaseHarness, type ReleaseHarness } from '../support/release-harness.js';
import { startAwsEmulator, type AwsEmulator } from '../support/aws-emulator.js';
import { tempDir } from '../support/stack.js';

const ROLE = 'arn:aws:iam::123456789012:role/imagecast-keyless';
const SESSION_S = 900;
/** The worker renews credentials this long after STS issued them... */
const RENEW_EVERY_S = 3;
/** ...and the shim refuses them this long after. */
const LIFETIME_S = 8;
const MiB = 1024 * 1024;
/** 12 MiB of data at 1 MiB/s from the build service: the upload lasts about 12 s (4 lives). */
const DISK_MIB = 12;
/** The copy stays pending for 9 s (3 lives). */
const COPY_MS = 9_000;
// JWT-shaped tokens (moto's STS takes any): what a Kubernetes projected token file holds.
const FIRST_TOKEN = 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJzeXN0ZW06c2VydmljZWFjY291bnQ6Zmlyc3QifQ.Zmlyc3Q';
const ROTATED_TOKEN = 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJzeXN0ZW06c2VydmljZWFjY291bnQ6cm90YXRlZCJ9.cm90YXRlZA';

describe('EC2 release on a keyless account whose credentials expire mid-upload and mid-copy (moto)', () => {
  const dir = tempDir('ec2-credential-renewal');
  const tokenFile = join(dir, 'token');
  const accountsFile = join(dir, 'accounts.json');
  let aws: AwsEmulator;
  let h: ReleaseHarness;
  let worker: ManagedProcess | undefined;

  before(async () => {
    writeFileSync(tokenFile, `${FIRST_TOKEN}\n`);
    aws = await startAwsEmulator(
      'ec2-credential-renewal',
      {
        credentials: {
          role_arn: ROLE,
          web_identity_token_file: tokenFile,
          session_duration_seconds: SESSION_S,
        },
      },
      [],
      { copyDelayMs: COPY_MS, temporaryCredentialsLifetimeMs: LIFETIME_S * 1000 },
    );
    writeFileSync(accountsFile, JSON.stringify(aws.accountsJson));
    // Data in every block, so the upload writes to EBS all along instead of skipping zeros.
    const diskFile = join(dir, 'disk.raw');
    writeFileSync(diskFile, randomBytes(DISK_MIB * MiB));
    h = await startReleaseHarness('ec2-credential-renewal', {
      queues: ['workflows'],
      diskFile,
      accounts: aws.accounts,
    });
    await h.publish('1');
    h.buildServer.setThrottle(MiB);
    worker = startWorkerProcess(h, 'ec2', join(dir, 'worker.log'), {
      IMAGECAST_ACCOUNTS_FILE: accountsFile,
      IMAGECAST_AWS_ENDPOINT: aws.endpoint,
      IMAGECAST_EC2_POLL_MS: '200',
      IMAGECAST_AWS_CREDENTIALS_RENEW_BEFORE_SECONDS: String(SESSION_S - RENEW_EVERY_S),
    });
  });
  after(async () => {
    await worker?.stop('SIGKILL');
    await h?.stop();
    await aws?.stop();
  });

  it('renews the credentials inside the upload and inside the copy, reads the rotated token file, and finishes in every region', async (t) => {
    const { releaseId } = await h.client.startRelease({
      cloud: 'ec2',
      cloud_account: 'test-aws',
      cloud_image_name: 'renewal-v{date}-b{release}',
      image_description: 'Imagecast credential renewal test image',
      download_url: h.buildServer.url,
      image: 'test-image',
      last_service: 'publish',
      share_with: 'none',
      root_volume_size: 1,
    });
    // The platform replaces the token file mid-upload (atomically, as the kubelet does).
    const blockWrites = () =>
      aws.shim.calls().filter((c) => /^PUT \/snapshots\/[^/]+\/blocks\/\d+$/.test(c.action));
    while (blockWrites().length < 4) await new Promise((r) => setTimeout(r, 100));
    writeFileSync(`${tokenFile}.new`, `${ROTATED_TOKEN}\n`);
    renameSync(`${tokenFile}.new`, tokenFile);
    const rotatedAt = new Date();

    const done = await h.client.waitForRelease(releaseId, { pollIntervalMs: 300 });
    assert.equal(done.state, 'succeeded', done.error);
    assert.deepEqual(done.images.map((i) => i.region).sort(), ['eu-west-1', 'us-east-1']);
    for (const region of ['us-east-1', 'eu-west-1']) {
      assert.equal((await aws.imagesNamed(region, done.imageName)).length, 1, `one AMI in ${region}`);
    }
    assert.deepEqual(
      aws.shim.expiredRefusals().map(describeCall),
      [],
      'no request was signed with expired credentials',
    );
    // Each activity ran once: whatever changed credentials happened inside one attempt.
    const log = await h.client.releaseLog(releaseId);
    for (const activity of ['uploadImage', 'replicateImage']) {
      const attempts = log.filter((a) => a.activity === activity);
      assert.deepEqual(
        attempts.map((a) => `${a.attempt}:${a.outcome}`),
        ['1:completed'],
        activity,
      );
    }

    const renewals = aws.shim.calls('sts:AssumeRoleWithWebIdentity');
    assert.ok(renewals.every((c) => c.params.RoleArn === ROLE));
    const during = (calls: RecordedCall[]) => {
      const from = calls[0]!.at.getTime();
      const to = calls.at(-1)!.at.getTime();
      return {
        keys: new Set(calls.map((c) => c.accessKeyId)).size,
        renewals: renewals.filter((c) => c.at.getTime() > from && c.at.getTime() < to).length,
        seconds: (to - from) / 1000,
      };
    };

    // The upload: every EBS block write, signed with several credentials in turn.
    const upload = during(blockWrites());
    assert.ok(upload.seconds > 2 * RENEW_EVERY_S, `the upload lasted ${upload.seconds} s`);
    assert.ok(upload.keys >= 2, `block writes signed with ${upload.keys} sets of credentials`);
    assert.ok(upload.renewals >= 1, 'STS was asked again during the upload');

    // The copy: CopyImage into eu-west-1 and the polls of the copy until it was available.
    const copyId = done.images.find((i) => i.region === 'eu-west-1')!.imageId;
    const copy = aws.shim
      .calls()
      .filter((c) => c.region === 'eu-west-1')
      .filter(
        (c) =>
          (c.action === 'CopyImage' && c.params.Name === done.imageName) ||
          (c.action === 'DescribeImages' && c.params['ImageId.1'] === copyId),
      );
    assert.equal(copy[0]?.action, 'CopyImage');
    const copying = during(copy);
    assert.ok(copying.seconds >= COPY_MS / 1000 - 1, `the copy lasted ${copying.seconds} s`);
    assert.ok(copying.keys >= 2, `copy calls signed with ${copying.keys} sets of credentials`);
    assert.ok(copying.renewals >= 1, 'STS was asked again during the copy');

    t.diagnostic(
      `${renewals.length} AssumeRoleWithWebIdentity; upload ${JSON.stringify(upload)}; copy ${JSON.stringify(copying)}`,
    );
    // The token file was read at each renewal: the old token before the rotation, the new one after.
    const tokens = (calls: RecordedCall[]) => [...new Set(calls.map((c) => c.params.WebIdentityToken))];
    assert.deepEqual(tokens(renewals.filter((c) => c.at < rotatedAt)), [FIRST_TOKEN]);
    assert.deepEqual(tokens(renewals.filter((c) => c.at > rotatedAt)), [ROTATED_TOKEN]);
  });
});

function describeCall(c: RecordedCall): string {
  return `${c.action} in ${c.region} at ${c.at.toISOString()}`;
}
