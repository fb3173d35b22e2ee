// Blocked releases on EC2: moto behind our shim, whose injected fault makes one of 4 regions
// refuse CopyImage for good (as a region out of AMI quota does). The release keeps the 3
// copies it made and waits; `resume` after the fault clears copies to the 4th, and
// `resume --skip` finishes without it.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startReleaseHarness, type ReleaseHarness } from '../support/release-harness.js';
import { startAwsEmulator, type AwsEmulator } from '../support/aws-emulator.js';
import type { ReleaseStatus } from '../../client/sdk/index.js';

const HOME = 'us-east-1';
const REGIONS = [HOME, 'eu-west-1', 'ap-northeast-1', 'us-west-2'];
const REFUSING = 'us-west-2';

describe('blocked releases on EC2 (moto)', () => {
  let aws: AwsEmulator;
  let h: ReleaseHarness;
  before(async () => {
    aws = await startAwsEmulator('ec2-blocked');
    h = await startReleaseHarness('ec2-blocked', {
      queues: ['workflows', 'ec2'],
      diskMiB: 16,
      accounts: aws.accounts,
      providers: { ec2: aws.provider() },
    });
    await h.publish('1');
  });
  after(async () => {
    await h?.stop();
    await aws?.stop();
  });

  const job = (name: string) => ({
    cloud: 'ec2',
    cloud_account: 'test-aws',
    additional_regions: ['ap-northeast-1', REFUSING],
    cloud_image_name: `${name}-v{date}-b{release}`,
    image_description: 'Imagecast EC2 test image',
    download_url: h.buildServer.url,
    image: 'test-image',
    last_service: 'publish',
    share_with: 'none',
    root_volume_size: 1,
    utctime: 'now',
  });
  const refuseCopies = () =>
    aws.shim.inject({
      action: 'CopyImage',
      region: REFUSING,
      code: 'ResourceLimitExceeded',
      message: 'You have reached your quota of 50000 images',
      times: Infinity,
    });
  const amiCount = async (status: ReleaseStatus) => {
    const counts: Record<string, number> = {};
    for (const region of REGIONS) counts[region] = (await aws.imagesNamed(region, status.imageName)).length;
    return counts;
  };

  async function startBlocked(name: string) {
    refuseCopies();
    const { releaseId } = await h.client.startRelease(job(name));
    const status = await h.client.waitForRelease(releaseId, { pollIntervalMs: 300 });
    assert.equal(status.state, 'blocked', status.error);
    assert.equal(status.blocked?.step, 'replicate');
    assert.deepEqual(status.blocked?.regions.map((r) => r.region), [REFUSING]);
    assert.match(status.blocked!.regions[0]!.reason, /ResourceLimitExceeded: You have reached your quota/);
    assert.deepEqual(await amiCount(status), { [HOME]: 1, 'eu-west-1': 1, 'ap-northeast-1': 1, [REFUSING]: 0 }, 'the 3 copies made are kept');
    return { releaseId, status };
  }

  it('blocks when one region refuses copies for good; resume after the fault clears copies there too', async () => {
    const { releaseId } = await startBlocked('resumed');
    aws.shim.clearFaults();
    const outcome = await h.client.resumeRelease(releaseId, { by: 'carol' });
    assert.match(outcome.detail, /resumed by carol: retrying us-west-2/);
    const done = await h.client.waitForRelease(releaseId, { pollIntervalMs: 300 });
    assert.equal(done.state, 'succeeded', done.error);
    assert.equal(done.skippedRegions, undefined);
    assert.deepEqual(await amiCount(done), Object.fromEntries(REGIONS.map((r) => [r, 1])), 'one AMI per region, none doubled');
  });

  it('resume --skip finishes without the refusing region; status and catalog have the 3 others', async () => {
    try {
      const { releaseId } = await startBlocked('skipped');
      await h.client.resumeRelease(releaseId, { skip: [REFUSING], by: 'dave' });
      const done = await h.client.waitForRelease(releaseId, { pollIntervalMs: 300 });
      assert.equal(done.state, 'succeeded', done.error);
      assert.deepEqual(done.skippedRegions, [REFUSING]);
      assert.deepEqual(done.images.map((i) => i.region).sort(), REGIONS.filter((r) => r !== REFUSING).sort());
      const catalogued = (await h.catalog.listImages({ cloud: 'ec2', account: 'test-aws', state: 'active' })).filter(
        (i) => i.imageName === done.imageName,
      );
      assert.deepEqual(catalogued.map((i) => i.region).sort(), REGIONS.filter((r) => r !== REFUSING).sort());
    } finally {
      aws.shim.clearFaults();
    }
  });
});
