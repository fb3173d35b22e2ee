import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  deterministicReleaseId,
  expandImageName,
  imageLine,
  imageNameDate,
  parseJob,
} from '../../schemas/job/index.js';

describe('image names and release ids', () => {
  it('fills {date}, {version} and {release}, and leaves a placeholder without a value literal', () => {
    const values = { date: '20261125', version: '15.6', release: '1.2' };
    assert.equal(expandImageName('sles-v{date}-{version}-b{release}', values), 'sles-v20261125-15.6-b1.2');
    assert.equal(
      expandImageName('sles-v{date}-b{release}', { date: '20261125' }),
      'sles-v20261125-b{release}',
    );
  });

  it("takes {date} as the UTC day, mash's YYYYMMDD", () => {
    assert.equal(imageNameDate(new Date('2026-11-25T23:59:59-05:00')), '20261126');
  });

  it('names the image line by the template itself', () => {
    assert.equal(imageLine('sles-v{date}-b{release}'), 'sles-v{date}-b{release}');
  });

  it('derives one workflow id per cloud, account and image line per day', () => {
    const parsed = parseJob({
      cloud: 'local',
      cloud_account: 'team-a',
      cloud_image_name: 'sles 15/v{date}-b{release}',
      image_description: 'SLES 15',
      download_url: 'https://download.example/images/',
      image: 'SLES15',
    });
    assert.ok(parsed.ok);
    const job = parsed.job;
    assert.equal(
      deterministicReleaseId(job, '20261125'),
      'release-local-team-a-sles_15_v20261125-b_release_',
    );
    assert.notEqual(deterministicReleaseId(job, '20261126'), deterministicReleaseId(job, '20261125'));
    assert.equal(
      deterministicReleaseId({ cloud: 'ec2', cloud_image_name: 'x-{date}' }, '20261125'),
      'release-ec2-default-x-20261125',
    );
  });
});
