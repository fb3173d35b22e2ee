// The release's preflight against real clouds: the local cloud (its DISABLED and BLOCK-PUBLIC
// faults) and EC2 as moto behind our shim (moto's own opt-in regions; the shim's image block
// public access). Every problem is found in one run, named by account, region and fix, and
// nothing is uploaded. `imagecast job validate --preflight` runs the same checks.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeFile } from 'node:fs/promises';
import { WorkflowFailedError } from '@temporalio/client';
import proto from '@temporalio/proto';
import {
  CreateSnapshotCommand,
  CreateVolumeCommand,
  EnableImageBlockPublicAccessCommand,
  RegisterImageCommand,
} from '@aws-sdk/client-ec2';
import { startReleaseHarness, type ReleaseHarness } from '../support/release-harness.js';
import { startAwsEmulator, type AwsEmulator } from '../support/aws-emulator.js';
import { runCli } from '../support/cli-process.js';
import { tempDir } from '../support/stack.js';

const { temporal } = proto;

describe('preflight before the upload (local cloud, EC2 on moto)', () => {
  let aws: AwsEmulator;
  let h: ReleaseHarness;
  let env: NodeJS.ProcessEnv;
  before(async () => {
    aws = await startAwsEmulator('release-preflight');
    h = await startReleaseHarness('release-preflight', {
      queues: ['workflows', 'local', 'ec2'],
      diskMiB: 8,
      accounts: aws.accounts,
      providers: { ec2: aws.provider() },
    });
    env = {
      ...process.env,
      HOME: tempDir('preflight-home'),
      IMAGECAST_TEMPORAL_ADDRESS: h.temporalAddress,
      IMAGECAST_QUEUE_PREFIX: h.queuePrefix,
    };
  });
  after(async () => {
    await h?.stop();
    await aws?.stop();
  });

  const fault = (region: string, file: string, reason: string) => {
    mkdirSync(join(h.localDataDir, 'test', region), { recursive: true });
    writeFileSync(join(h.localDataDir, 'test', region, file), reason);
    return () => rmSync(join(h.localDataDir, 'test', region, file), { force: true });
  };

  it('local: a taken name, a disabled region and blocked public images, all in one failure; nothing uploaded', async () => {
    await h.publish('1');
    const name = 'preflight-local-taken';
    const first = await h.client.waitForRelease(
      (await h.client.startRelease(h.job({ cloud_image_name: name, additional_regions: [] }))).releaseId,
      { pollIntervalMs: 200 },
    );
    assert.equal(first.state, 'succeeded', first.error);
    const reopen = [
      fault('region-2', 'DISABLED', 'opt-in region not enabled'),
      fault('region-3', 'BLOCK-PUBLIC', 'block public access is on'),
    ];
    try {
      const filesBefore = h.allCloudFiles().sort();
      const job = h.job({
        cloud_image_name: name,
        additional_regions: ['region-2', 'region-3'],
        share_with: 'all',
      });
      const { releaseId } = await h.client.startRelease(job);
      await assert.rejects(h.client.temporal.workflow.getHandle(releaseId).result(), (error: unknown) => {
        assert.ok(error instanceof WorkflowFailedError);
        const cause = error.cause as { type?: string; nonRetryable?: boolean };
        assert.equal(cause.type, 'PreflightFailed');
        assert.equal(cause.nonRetryable, true);
        return true;
      });
      const status = await h.client.getRelease(releaseId);
      assert.equal(status.state, 'failed');
      assert.match(status.error!, /preflight found 3 problems; nothing was uploaded/);
      assert.match(
        status.error!,
        new RegExp(
          `local account test, region region-1: \\[image-name\\] an image named "${name}" already exists \\(img-[0-9a-f]+\\)\\. Fix: choose another cloud_image_name`,
        ),
      );
      assert.match(
        status.error!,
        /local account test, region region-2: \[region-enabled\] region region-2 is not enabled for the account: opt-in region not enabled\. Fix: remove \S+region-2\/DISABLED/,
      );
      assert.match(
        status.error!,
        /local account test, region region-3: \[public-sharing\] public images are blocked: block public access is on\. Fix: remove \S+region-3\/BLOCK-PUBLIC, or share with account names/,
      );
      assert.deepEqual(h.allCloudFiles().sort(), filesBefore, 'no disk, staging file or image was made');
      const types = await activityTypes(h, releaseId);
      assert.ok(types.includes('preflight') && !types.includes('uploadImage'), types.join(', '));
      await recordHistory(h, releaseId, 'release-local-preflight-problems');

      // The same checks from the CLI, without a release: every problem printed, exit 1.
      const jobFile = join(tempDir('preflight-jobs'), 'local.json');
      await writeFile(jobFile, JSON.stringify(job));
      const cli = await runCli(['job', 'validate', '--preflight', jobFile], env);
      assert.equal(cli.status, 1, cli.stderr);
      assert.match(cli.stdout, new RegExp(`^preflight: 3 problems in test for image "${name}":$`, 'm'));
      assert.match(cli.stdout, /^ {2}local account test, region region-1: \[image-name\] .*Fix: /m);
      assert.match(cli.stdout, /^ {2}local account test, region region-2: \[region-enabled\] .*Fix: /m);
      assert.match(cli.stdout, /^ {2}local account test, region region-3: \[public-sharing\] .*Fix: /m);
      const json = await runCli(['job', 'validate', '--preflight', '--json', jobFile], env);
      assert.equal(json.status, 1, json.stderr);
      const parsed = JSON.parse(json.stdout) as {
        preflight: { problems: Array<{ check: string; region: string; account: string; fix: string }> };
      };
      assert.deepEqual(parsed.preflight.problems.map((p) => `${p.account}/${p.region}:${p.check}`).sort(), [
        'test/region-1:image-name',
        'test/region-2:region-enabled',
        'test/region-3:public-sharing',
      ]);
    } finally {
      reopen.forEach((open) => open());
    }
    // Fixed: the CLI finds nothing (exit 0) with another name.
    const jobFile = join(tempDir('preflight-jobs'), 'fixed.json');
    await writeFile(
      jobFile,
      JSON.stringify(
        h.job({
          cloud_image_name: 'preflight-local-free',
          additional_regions: ['region-2', 'region-3'],
          share_with: 'all',
        }),
      ),
    );
    const ok = await runCli(['job', 'validate', '--preflight', jobFile], env);
    assert.equal(ok.status, 0, ok.stderr + ok.stdout);
    assert.match(ok.stdout, /^preflight: no problems in test for image "preflight-local-free"$/m);
  });

  it('EC2: an opt-in region not enabled, image block public access and a taken AMI name, all in one failure; nothing uploaded', async () => {
    await h.publish('2');
    const name = 'preflight-ec2-taken';
    // Another AMI of that name in the home region (made outside Imagecast).
    const ec2 = aws.ec2('us-east-1');
    const volume = await ec2.send(new CreateVolumeCommand({ AvailabilityZone: 'us-east-1a', Size: 1 }));
    const snapshot = await ec2.send(new CreateSnapshotCommand({ VolumeId: volume.VolumeId }));
    const other = await ec2.send(
      new RegisterImageCommand({
        Name: name,
        RootDeviceName: '/dev/sda1',
        BlockDeviceMappings: [{ DeviceName: '/dev/sda1', Ebs: { SnapshotId: snapshot.SnapshotId } }],
      }),
    );
    await aws
      .ec2('eu-west-1')
      .send(new EnableImageBlockPublicAccessCommand({ ImageBlockPublicAccessState: 'block-new-sharing' }));
    const snapshotsBefore = (await aws.snapshotsIn('us-east-1')).length;
    const job = {
      cloud: 'ec2',
      cloud_account: 'test-aws',
      additional_regions: ['ap-east-1', 'eu-west-1'],
      cloud_image_name: name,
      image_description: 'preflight test',
      download_url: h.buildServer.url,
      image: 'test-image',
      utctime: 'now',
      share_with: 'all',
      root_volume_size: 1,
    };
    const { releaseId } = await h.client.startRelease(job);
    await assert.rejects(h.client.temporal.workflow.getHandle(releaseId).result(), WorkflowFailedError);
    const status = await h.client.getRelease(releaseId);
    assert.match(status.error!, /preflight found 3 problems; nothing was uploaded/);
    assert.match(
      status.error!,
      new RegExp(
        `ec2 account test-aws, region us-east-1: \\[image-name\\] an image named "${name}" already exists \\(${other.ImageId}\\)`,
      ),
    );
    assert.match(
      status.error!,
      /ec2 account test-aws, region ap-east-1: \[region-enabled\] ap-east-1 is an opt-in region not enabled for this account\. Fix: enable it \(AWS console: Account → AWS Regions, or `aws account enable-region --region-name ap-east-1`\)/,
    );
    assert.match(
      status.error!,
      /ec2 account test-aws, region eu-west-1: \[public-sharing\] image block public access is on \(block-new-sharing\)[^|]*Fix: turn it off \(`aws ec2 disable-image-block-public-access --region eu-west-1`\)/,
    );
    // Nothing uploaded: no EBS direct StartSnapshot, no new snapshot, no RegisterImage by us.
    assert.deepEqual(aws.shim.calls('POST /snapshots'), []);
    assert.equal((await aws.snapshotsIn('us-east-1')).length, snapshotsBefore);
    assert.equal(aws.shim.calls('RegisterImage').length, 1, 'only the test registered an AMI');
    assert.ok(aws.shim.calls('DescribeRegions').some((c) => c.params.AllRegions === 'true'));
    assert.deepEqual(
      aws.shim
        .calls('GetImageBlockPublicAccessState')
        .map((c) => c.region)
        .sort(),
      ['eu-west-1', 'us-east-1'],
    );
  });
});

async function recordHistory(h: ReleaseHarness, releaseId: string, name: string): Promise<void> {
  const dir = process.env.IMAGECAST_RECORD_HISTORY_DIR;
  if (!dir) return;
  const history = await h.client.temporal.workflow.getHandle(releaseId).fetchHistory();
  await writeFile(join(dir, `${name}.binpb`), temporal.api.history.v1.History.encode(history).finish());
  await writeFile(join(dir, `${name}.workflow-id`), `${releaseId}\n`);
}

async function activityTypes(h: ReleaseHarness, releaseId: string): Promise<string[]> {
  const history = await h.client.temporal.workflow.getHandle(releaseId).fetchHistory();
  return (history.events ?? []).flatMap((e) => {
    const name = e.activityTaskScheduledEventAttributes?.activityType?.name;
    return name ? [name] : [];
  });
}
