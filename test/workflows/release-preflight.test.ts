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
import { startAwsEmulator, TEST_KEYS, type AwsEmulator } from '../support/aws-emulator.js';
import { runCli } from '../support/cli-process.js';
import { tempDir } from '../support/stack.js';

const { temporal } = proto;

describe('preflight before the upload (local cloud, EC2 on moto)', () => {
  let aws: AwsEmulator;
  let h: ReleaseHarness;
  let env: NodeJS.ProcessEnv;
  before(async () => {
    aws = await startAwsEmulator('release-preflight', {}, [
      {
        name: 'second',
        partition: 'aws',
        region: 'us-west-2',
        additional_regions: ['me-south-1'],
        credentials: TEST_KEYS,
      },
    ]);
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

  it("EC2, several accounts: every account is checked before any account's release starts; one failure lists them all", async () => {
    await h.publish('5');
    const name = 'preflight-accounts-taken';
    const taken = await foreignAmi(aws, 'us-east-1', name);
    const { releaseId } = await h.client.startRelease({
      cloud: 'ec2',
      cloud_accounts: [{ name: 'test-aws' }, { name: 'second' }],
      cloud_image_name: name,
      image_description: 'preflight test',
      download_url: h.buildServer.url,
      image: 'test-image',
      utctime: 'now',
      root_volume_size: 1,
    });
    await assert.rejects(h.client.temporal.workflow.getHandle(releaseId).result(), WorkflowFailedError);
    const status = await h.client.getRelease(releaseId);
    assert.match(status.error!, /preflight found 2 problems; nothing was uploaded/);
    assert.match(
      status.error!,
      new RegExp(
        `ec2 account test-aws, region us-east-1: \\[image-name\\] an image named "${name}" already exists \\(${taken}\\)`,
      ),
    );
    assert.match(
      status.error!,
      /ec2 account second, region me-south-1: \[region-enabled\] me-south-1 is an opt-in region not enabled for this account/,
    );
    for (const account of ['test-aws', 'second']) {
      await assert.rejects(
        h.client.temporal.workflow.getHandle(`${releaseId}/${account}`).describe(),
        `no release started in ${account}`,
      );
    }
  });

  it('EC2 force_replace_image: the new AMI is tested under a stand-in name, then takes the name from the same snapshot; the old AMIs are gone', async () => {
    await h.publish('3');
    const name = 'force-replace-ec2';
    const old = {
      'us-east-1': await foreignAmi(aws, 'us-east-1', name),
      'eu-west-1': await foreignAmi(aws, 'eu-west-1', name),
    };
    const since = Date.now();
    const { releaseId } = await h.client.startRelease({
      cloud: 'ec2',
      cloud_account: 'test-aws',
      additional_regions: ['eu-west-1'],
      cloud_image_name: name,
      image_description: 'force replace test',
      download_url: h.buildServer.url,
      image: 'test-image',
      utctime: 'now',
      root_volume_size: 1,
      tests: ['test_hostname'],
      force_replace_image: true,
    });
    const done = await h.client.waitForRelease(releaseId, { pollIntervalMs: 200 });
    assert.equal(done.state, 'succeeded', done.error);
    const create = done.steps.find((s) => s.name === 'create')!;
    assert.match(
      create.detail ?? '',
      new RegExp(
        `^ami-\\w+ in us-east-1 \\(tested as ${name}-replacing-\\w{8}; replaced ${old['us-east-1']}\\)$`,
      ),
    );
    const calls = (action: string) => aws.shim.calls(action).filter((c) => c.at.getTime() >= since);
    // Registered twice from the one uploaded snapshot: the stand-in, then the name.
    const registered = calls('RegisterImage');
    assert.deepEqual(
      registered.map((c) => c.params.Name),
      [`${name}-replacing-${registered[0]!.params.Name!.slice(-8)}`, name],
    );
    assert.equal(
      registered[0]!.params['BlockDeviceMapping.1.Ebs.SnapshotId'],
      registered[1]!.params['BlockDeviceMapping.1.Ebs.SnapshotId'],
    );
    assert.equal(calls('POST /snapshots').length, 1, 'one upload');
    // The old AMI went only after the stand-in was tested (its instance launched).
    const launched = calls('RunInstances')[0]!;
    const deregistered = calls('DeregisterImage');
    const oldHome = deregistered.find((c) => c.params.ImageId === old['us-east-1'])!;
    assert.ok(
      oldHome && oldHome.at >= launched.at,
      'the old AMI is deregistered after the test instance ran',
    );
    assert.ok(
      deregistered.some((c) => c.params.ImageId === old['eu-west-1'] && c.region === 'eu-west-1'),
      'the old copy in eu-west-1 went before the copy',
    );
    for (const region of ['us-east-1', 'eu-west-1'] as const) {
      const images = await aws.imagesNamed(region, name);
      assert.equal(images.length, 1, `one AMI named ${name} in ${region}`);
      assert.notEqual(images[0]!.ImageId, old[region]);
      assert.deepEqual(done.images.find((i) => i.region === region)?.imageId, images[0]!.ImageId);
    }
    const standIns = await aws.imagesNamed('us-east-1', registered[0]!.params.Name!);
    assert.deepEqual(standIns, [], 'the stand-in AMI is gone');
  });

  it('local force_replace_image: the tested image takes the name in every region; without it the name is still refused', async () => {
    await h.publish('4');
    const name = 'force-replace-local';
    const first = await h.client.waitForRelease(
      (
        await h.client.startRelease(
          h.job({ cloud_image_name: name, additional_regions: ['region-2'], share_with: 'none' }),
        )
      ).releaseId,
      { pollIntervalMs: 200 },
    );
    assert.equal(first.state, 'succeeded', first.error);
    const refused = await h.client.waitForRelease(
      (
        await h.client.startRelease(
          h.job({ cloud_image_name: name, additional_regions: ['region-2'], share_with: 'none' }),
        )
      ).releaseId,
      { pollIntervalMs: 200 },
    );
    assert.equal(refused.state, 'failed');
    assert.match(refused.error!, /\[image-name\] an image named "force-replace-local" already exists/);

    const { releaseId } = await h.client.startRelease(
      h.job({
        cloud_image_name: name,
        additional_regions: ['region-2'],
        share_with: 'none',
        force_replace_image: true,
      }),
    );
    const done = await h.client.waitForRelease(releaseId, { pollIntervalMs: 200 });
    assert.equal(done.state, 'succeeded', done.error);
    for (const region of ['region-1', 'region-2']) {
      const named = h.imagesIn(region).filter((i) => String(i.imageName).startsWith(name));
      assert.deepEqual(
        named.map((i) => i.imageName),
        [name],
        `one image of the name in ${region}, no stand-in`,
      );
      assert.equal(named[0]!.imageId, done.images.find((i) => i.region === region)!.imageId);
      assert.notEqual(named[0]!.imageId, first.images.find((i) => i.region === region)!.imageId);
    }
    const { rows } = await h.pool.query<{ image_name: string; state: string }>(
      'SELECT image_name, state FROM catalog_images WHERE image_id = $1',
      [done.images[0]!.imageId],
    );
    assert.deepEqual(
      rows,
      [{ image_name: name, state: 'active' }],
      'the catalog knows the image by its name',
    );
    const types = await activityTypes(h, releaseId);
    // After create (and the test step, skipped here: no tests), before the copy.
    const at = types.indexOf('completeReplacement');
    assert.ok(at > types.indexOf('createImage') && at < types.indexOf('replicateImage'), types.join(', '));
    await recordHistory(h, releaseId, 'release-local-force-replace');
  });
});

/** An AMI of that name made outside Imagecast (no release token), on a snapshot of its own. */
async function foreignAmi(aws: AwsEmulator, region: string, name: string): Promise<string> {
  const ec2 = aws.ec2(region);
  const volume = await ec2.send(new CreateVolumeCommand({ AvailabilityZone: `${region}a`, Size: 1 }));
  const snapshot = await ec2.send(new CreateSnapshotCommand({ VolumeId: volume.VolumeId }));
  const image = await ec2.send(
    new RegisterImageCommand({
      Name: name,
      RootDeviceName: '/dev/sda1',
      BlockDeviceMappings: [{ DeviceName: '/dev/sda1', Ebs: { SnapshotId: snapshot.SnapshotId } }],
    }),
  );
  return image.ImageId!;
}

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
