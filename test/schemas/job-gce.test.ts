// GCE job documents as mash writes them, the rules mash only crashes on, and the plan's
// account rules (mash's utils/jobs/gce.py).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseJob, formatIssues } from '../../schemas/job/index.js';
import { planRelease } from '../../activities/common/plan-release.js';
import { accountDirectory } from '../../activities/accounts/account-directory.js';
import { TEST_GCE_KEY } from '../support/gce-key.js';
import { issueAt, issuesOf } from '../support/job-issues.js';

const mashGce = JSON.parse(
  readFileSync(fileURLToPath(new URL('../../../examples/jobs/mash-gce.json', import.meta.url)), 'utf8'),
) as Record<string, unknown>;

const minimal = {
  cloud: 'gce',
  cloud_account: 'gce-prod',
  image: 'SLES15-GCE',
  download_url: 'https://download.example/images/',
  cloud_image_name: 'sles-15-v{date}',
  image_description: 'SLES 15',
};

const accounts = accountDirectory({
  gce: [
    { name: 'gce-prod', zone: 'us-east1-b', bucket: 'prod-images', is_publishing_account: true, testing_account: 'gce-test', credentials: TEST_GCE_KEY },
    { name: 'gce-test', zone: 'us-west1-a', bucket: 'test-images', credentials: TEST_GCE_KEY },
    { name: 'gce-dev', zone: 'europe-west1-b', bucket: 'dev-images', credentials: TEST_GCE_KEY },
  ],
});

describe('GCE job documents', () => {
  it("accepts mash's GCE documents as they are", () => {
    for (const doc of [
      mashGce,
      minimal,
      { ...minimal, cloud_account: 'gce-dev', share_with: ['group:images@example.com', 'domain:example.com'], months_to_deletion: 0 },
      { ...minimal, last_service: 'upload', bucket: 'other-bucket', force_replace_image: true, cloud_architecture: 'aarch64' },
    ]) {
      const result = parseJob(doc);
      assert.ok(result.ok, result.ok ? '' : formatIssues(result.issues));
    }
  });

  it('refuses broken documents, naming each field', () => {
    const issues = issuesOf({
      ...minimal,
      cloud_image_name: 'SLES-15-v{version}',
      family: 'SLES_15',
      months_to_deletion: -1,
      guest_os_features: ['GVNIC', 'GVNIC'],
      licenses: [],
      region: 'us-east1',
      test_fallback_regions: ['us-east1-b', 'nowhere'],
      share_with: ['alice@example.com'],
      skip_rollout: 'yes',
      unknown_field: 1,
    });
    assert.match(issueAt(issues, '$.cloud_image_name'), /is not a GCE image name.*\{version\} and \{release\} contain dots/);
    assert.match(issueAt(issues, '$.family'), /GCE image family name/);
    assert.ok(issueAt(issues, '$.months_to_deletion'));
    assert.match(issueAt(issues, '$.guest_os_features[1]'), /"GVNIC" is listed twice/);
    assert.match(issueAt(issues, '$.licenses'), /at least one license/);
    assert.match(issueAt(issues, '$.region'), /a GCE zone such as us-east1-c/);
    assert.match(issueAt(issues, '$.test_fallback_regions[1]'), /a GCE zone/);
    assert.match(issueAt(issues, '$.share_with[0]'), /an IAM member: user:EMAIL/);
    assert.ok(issueAt(issues, '$.skip_rollout'));
    assert.ok(issues.some((i) => i.path.includes('unknown_field')), formatIssues(issues));
  });

  it('refuses a fallback zone that is the test zone', () => {
    const issues = issuesOf({ ...minimal, region: 'us-east1-b', test_fallback_regions: ['us-west1-a', 'us-east1-b'] });
    assert.match(issueAt(issues, '$.test_fallback_regions[1]'), /is the test zone/);
  });

  it("plans with mash's account rules: defaults from the account, family and image_project for a publishing account", async () => {
    const plan = await planRelease({ ...mashGce }, accounts);
    assert.equal(plan.cloud, 'gce');
    assert.equal(plan.homeRegion, 'global');
    assert.deepEqual(plan.replicaRegions, []);
    assert.deepEqual(plan.imageOptions, {
      cloud: 'gce',
      bucket: 'sles-images',
      family: 'sles-15',
      guestOsFeatures: ['GVNIC', 'SEV_CAPABLE', 'VIRTIO_SCSI_MULTIQUEUE', 'UEFI_COMPATIBLE'],
      licenses: ['projects/suse-cloud/global/licenses/sles-15'],
      monthsToDeletion: 6,
      testZone: 'us-east1-c',
      testFallbackZones: ['us-east1-b', 'us-west1-a'],
      testingAccount: 'gce-test',
      imageProject: 'suse-cloud',
      forceReplace: false,
      skipRollout: false,
    });
    const dev = await planRelease({ ...minimal, cloud_account: 'gce-dev', tests: ['test_sles'] }, accounts);
    assert.deepEqual(
      dev.imageOptions && 'testZone' in dev.imageOptions && [dev.imageOptions.bucket, dev.imageOptions.testZone, dev.imageOptions.testingAccount],
      ['dev-images', 'europe-west1-b', undefined],
    );

    await assert.rejects(planRelease({ ...minimal, tests: ['test_sles'] }, accounts), (error: Error) => {
      assert.match(error.message, /\$\.family: required: account "gce-prod" is a publishing account/);
      assert.match(error.message, /\$\.image_project: required to test images of publishing account "gce-prod"/);
      return true;
    });
    await assert.rejects(planRelease({ ...minimal, cloud_account: 'nobody' }, accounts), /nobody/);
    await assert.rejects(planRelease({ ...minimal, cloud_account: 'gce-dev', testing_account: 'ghost', tests: ['test_sles'] }, accounts), /ghost/);
  });
});
