// EC2 releases that go wrong, against moto behind our shim: a cloud worker killed in the
// middle of the EBS direct upload, and a region whose copy fails for good.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ManagedProcess } from '../../infra/devstack/child-process.js';
import { startWorkerProcess } from '../support/worker-process.js';
import { uploadProgressAtLeast } from '../support/upload-progress.js';
import { startReleaseHarness, type ReleaseHarness } from '../support/release-harness.js';
import { startAwsEmulator, type AwsEmulator } from '../support/aws-emulator.js';
import { tempDir } from '../support/stack.js';

const HOME = 'us-east-1';
const REGIONS = [HOME, 'eu-west-1', 'ap-northeast-1', 'us-west-2'];

describe('EC2 releases that go wrong (moto)', () => {
  let aws: AwsEmulator;
  let h: ReleaseHarness;
  const logs = tempDir('ec2-crash-logs');
  const workers: ManagedProcess[] = [];
  const accountsFile = join(logs, 'accounts.json');

  const startCloudWorker = (name: string) => {
    const worker = startWorkerProcess(h, 'ec2', join(logs, `${name}.log`), {
      IMAGECAST_ACCOUNTS_FILE: accountsFile,
      IMAGECAST_AWS_ENDPOINT: aws.endpoint,
      IMAGECAST_EC2_POLL_MS: '100',
    });
    workers.push(worker);
    return worker;
  };

  before(async () => {
    aws = await startAwsEmulator('ec2-crash');
    await writeFile(accountsFile, JSON.stringify(aws.accountsJson));
    // The workflows queue runs here; the ec2 queue in killable worker processes.
    h = await startReleaseHarness('ec2-crash', {
      queues: ['workflows'],
      diskMiB: 48,
      accounts: aws.accounts,
    });
  });
  after(async () => {
    for (const w of workers) await w.stop('SIGKILL');
    await h?.stop();
    await aws?.stop();
  });

  const job = (name: string, overrides: Record<string, unknown> = {}) => ({
    cloud: 'ec2',
    cloud_account: 'test-aws',
    additional_regions: ['ap-northeast-1', 'us-west-2'],
    cloud_image_name: `${name}-v{date}-b{release}`,
    image_description: 'Imagecast EC2 test image',
    download_url: h.buildServer.url,
    image: 'test-image',
    last_service: 'publish',
    share_with: 'none',
    root_volume_size: 1,
    ...overrides,
  });

  it('resumes the EBS direct upload after the worker is killed and makes one snapshot and one AMI per region', async () => {
    await h.publish('1');
    h.buildServer.setThrottle(4 * 1024 * 1024);
    const first = startCloudWorker('first');
    const { releaseId } = await h.client.startRelease(job('crash'));
    await uploadProgressAtLeast(h.client.temporal, releaseId, 8 * 1024 * 1024);
    await first.stop('SIGKILL');
    h.buildServer.setThrottle(undefined);
    startCloudWorker('second');

    const status = await h.client.waitForRelease(releaseId, { pollIntervalMs: 500 });
    assert.equal(status.state, 'succeeded', status.error);
    const reads = h.buildServer.requests.filter((r) => r.path.endsWith('.raw.xz') || r.path.endsWith('.raw'));
    assert.ok(reads.length >= 2, 'the retry read the image again (to rebuild its checksum)');
    for (const region of REGIONS) {
      assert.equal((await aws.imagesNamed(region, status.imageName)).length, 1, `one AMI in ${region}`);
    }
    // One EBS snapshot was started for the upload: the retry wrote into the same one.
    assert.equal(aws.shim.calls('POST /snapshots').length, 1, 'exactly one StartSnapshot');
    const uploadSnapshot = status.steps.find((s) => s.name === 'upload')!.produced![0]!;
    const completions = aws.shim
      .calls()
      .filter((c) => c.action === `POST /snapshots/completion/${uploadSnapshot}`);
    assert.equal(completions.length, 1, 'completed once');
    assert.equal(aws.shim.calls('RegisterImage').length, 1);
  });

  it('with on_failure: abort, fails the release when a region refuses its copy for good, and the saga removes every copy and the upload', async () => {
    await h.publish('2');
    if (workers.every((w) => w.child.exitCode !== null || w.child.signalCode !== null))
      startCloudWorker('third');
    aws.shim.inject({
      action: 'CopyImage',
      region: 'ap-northeast-1',
      code: 'InvalidParameterValue',
      message: 'The snapshot is encrypted with a key this region cannot use',
    });
    // on_failure: abort is mash's behaviour (the default, block, keeps the copies and waits).
    const { releaseId, runId } = await h.client.startRelease({ ...job('failing'), on_failure: 'abort' });
    const status = await h.client.waitForRelease(releaseId, { pollIntervalMs: 300 });
    assert.equal(status.state, 'failed');
    assert.match(
      status.error ?? '',
      /EC2 CopyImage to ap-northeast-1 refused: InvalidParameterValue: The snapshot is encrypted/,
    );
    const copyAttempts = aws.shim
      .calls('CopyImage')
      .filter((c) => c.region === 'ap-northeast-1' && c.params.Name?.startsWith('failing-'));
    assert.equal(copyAttempts.length, 1, 'a refused request is not retried');
    for (const region of REGIONS) {
      assert.deepEqual(await aws.imagesNamed(region, status.imageName), [], `no AMI left in ${region}`);
      const left = (await aws.snapshotsIn(region)).filter((s) =>
        s.Tags?.some((t) => t.Key === 'imagecast:release-token' && t.Value === runId),
      );
      assert.deepEqual(left, [], `no snapshot of the run left in ${region}`);
    }
    const catalogued = await h.catalog.listImages({ cloud: 'ec2', account: 'test-aws' });
    assert.deepEqual(
      catalogued.filter((i) => i.imageName === status.imageName && i.state !== 'deleted'),
      [],
      'nothing of the failed release is in the catalog as pending or active',
    );
  });
});
