import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ApplicationFailure } from '@temporalio/common';
import { formatIssues, parseJob } from '../../schemas/job/index.js';
import { gceImageNameProblem } from '../../schemas/job/gce.js';
import { planRelease } from '../../activities/common/plan-release.js';
import { accountDirectory } from '../../activities/accounts/account-directory.js';
import { gceAccountSchema } from '../../schemas/accounts.js';
import { TEST_GCE_KEY } from '../support/gce-key.js';

/**
 * mash's GCE job documents, written from mash/services/api/v1/schema/jobs/gce.py and its
 * test data (test/data/gce_job.json without the route-added cloud/requesting_user).
 */
const MASH_GCE_DOCS: Record<string, Record<string, unknown>> = {
  'the test data job': {
    last_service: 'deprecate',
    utctime: 'now',
    image: 'test_image_oem',
    cloud_image_name: 'sles-15-sp6-v{date}',
    old_cloud_image_name: 'sles-15-sp5-v20240101',
    image_description: 'SUSE Linux Enterprise Server 15 SP6',
    download_url: 'https://download.opensuse.org/repositories/Cloud:Tools/images',
    cloud_account: 'gce-prod',
    family: 'sles-15',
    months_to_deletion: 6,
    guest_os_features: ['UEFI_COMPATIBLE', 'GVNIC', 'SEV_CAPABLE', 'VIRTIO_SCSI_MULTIQUEUE'],
    licenses: ['projects/suse-cloud/global/licenses/sles-15'],
    testing_account: 'gce-test',
    image_project: 'suse-cloud',
    region: 'us-east1-c',
    test_fallback_regions: ['us-west1-a', 'us-central1-b'],
    bucket: 'images',
    tests: ['test_sles'],
    boot_firmware: ['uefi'],
    cloud_architecture: 'x86_64',
    skip_rollout: true,
    notification_email: 'test@fake.com',
    notify: true,
    distro: 'sles',
    instance_type: 'n1-standard-1',
    ssh_user: 'root',
    cleanup_images: true,
  },
  'a minimal upload-only job': {
    last_service: 'upload',
    utctime: '2026-12-03T06:00:00Z',
    image: 'openSUSE-Leap-15.6-GCE',
    download_url: 'https://download.opensuse.org/repositories/Cloud:/Images:/Leap_15.6/images/',
    cloud_account: 'gce-test',
    cloud_image_name: 'opensuse-leap-15-6-v{date}',
    image_description: 'openSUSE Leap 15.6',
  },
  'an arm64 job with an empty fallback list and conditions': {
    last_service: 'create',
    utctime: 'now',
    image: 'SLES15-SP6-GCE',
    download_url: 'https://download.suse.de/ibs/Devel:/PubCloud/images/',
    cloud_account: 'gce-test',
    cloud_image_name: 'sles-15-sp6-arm64-v{date}',
    image_description: 'SLES 15 SP6 arm64',
    cloud_architecture: 'aarch64',
    boot_firmware: ['uefi'],
    test_fallback_regions: [],
    conditions: [{ package_name: 'kernel-default', version: '6.4.0', condition: '>=' }],
    force_replace_image: true,
  },
};

const accounts = accountDirectory({
  gce: [
    { name: 'gce-test', zone: 'us-west1-b', bucket: 'test-images', credentials: TEST_GCE_KEY },
    { name: 'gce-prod', zone: 'us-east1-d', bucket: 'prod-images', is_publishing_account: true, testing_account: 'gce-test', credentials: TEST_GCE_KEY },
  ],
});

async function refusal(doc: Record<string, unknown>): Promise<string> {
  const error = await planRelease({ cloud: 'gce', ...doc }, accounts).then(
    () => assert.fail('the plan was accepted'),
    (e: unknown) => e as ApplicationFailure,
  );
  assert.equal(error.type, 'InvalidJob');
  return error.message;
}

describe('GCE job documents', () => {
  for (const [name, doc] of Object.entries(MASH_GCE_DOCS)) {
    it(`accepts mash's ${name} unchanged`, () => {
      const result = parseJob(doc, 'gce');
      assert.ok(result.ok, result.ok ? '' : formatIssues(result.issues));
    });
  }

  it('refuses broken documents by path, with what was expected and what was given', () => {
    const result = parseJob(
      {
        ...MASH_GCE_DOCS['the test data job'],
        months_to_deletion: -1,
        guest_os_features: ['GVNIC', 'GVNIC'],
        licenses: [],
        test_fallback_regions: ['us-east1-c', 'us-east1'],
        family: 'SLES_15',
        skip_rollout: 'yes',
        cloud_image_name: 'sles-15-sp6-v{date}-b{release}',
        destination_bucket: 'x',
      },
      'gce',
    );
    assert.equal(result.ok, false);
    const issues = result.ok ? {} : Object.fromEntries(result.issues.map((i) => [i.path, i.message]));
    assert.match(issues['$.months_to_deletion']!, />= 0|at least 0/);
    assert.equal(issues['$.guest_os_features[1]'], '"GVNIC" is listed twice');
    assert.match(issues['$.licenses']!, /at least one license/);
    assert.match(issues['$.test_fallback_regions[1]']!, /a GCE zone such as us-east1-c; got string "us-east1"/);
    assert.equal(issues['$.test_fallback_regions[0]'], '"us-east1-c" is the test zone (region) already');
    assert.match(issues['$.family']!, /GCE image family name/);
    assert.match(issues['$.skip_rollout']!, /expected a boolean.*got string "yes"/);
    assert.match(issues['$.cloud_image_name']!, /is not a GCE image name.*contain dots/);
    assert.match(issues['$.destination_bucket']!, /unknown field/);
  });

  it("checks the image name grammar mash only crashes on, after placeholders", () => {
    assert.equal(gceImageNameProblem('sles-15-v{date}'), undefined);
    assert.match(gceImageNameProblem('SLES-15-v{date}')!, /not a GCE image name/);
    assert.match(gceImageNameProblem('sles-15-v{date}-')!, /not ending with "-"/);
    assert.match(gceImageNameProblem(`a${'b'.repeat(55)}-v{date}`)!, /at most 63/);
    assert.match(gceImageNameProblem('15-sles-v{date}')!, /starting with a letter/);
  });

  it('plans with the account defaults, UEFI from boot_firmware, and no replication (images are global)', async () => {
    const plan = await planRelease({ cloud: 'gce', ...MASH_GCE_DOCS['a minimal upload-only job'], boot_firmware: ['uefi-preferred'] }, accounts);
    assert.equal(plan.cloud, 'gce');
    assert.equal(plan.account, 'gce-test');
    assert.equal(plan.homeRegion, 'global');
    assert.deepEqual(plan.replicaRegions, []);
    assert.deepEqual(plan.imageOptions, {
      cloud: 'gce',
      bucket: 'test-images',
      guestOsFeatures: ['UEFI_COMPATIBLE'],
      licenses: [],
      monthsToDeletion: 6,
      testZone: 'us-west1-b',
      testFallbackZones: [],
      forceReplace: false,
      skipRollout: false,
    });
  });

  it('takes the job fields over the account defaults', async () => {
    const plan = await planRelease({ cloud: 'gce', ...MASH_GCE_DOCS['the test data job'] }, accounts);
    assert.equal(plan.architecture, 'x86_64');
    assert.deepEqual(plan.imageOptions, {
      cloud: 'gce',
      bucket: 'images',
      family: 'sles-15',
      guestOsFeatures: ['UEFI_COMPATIBLE', 'GVNIC', 'SEV_CAPABLE', 'VIRTIO_SCSI_MULTIQUEUE'],
      licenses: ['projects/suse-cloud/global/licenses/sles-15'],
      monthsToDeletion: 6,
      testZone: 'us-east1-c',
      testFallbackZones: ['us-west1-a', 'us-central1-b'],
      testingAccount: 'gce-test',
      imageProject: 'suse-cloud',
      forceReplace: false,
      skipRollout: true,
    });
  });

  it("applies mash's publishing-account rules: family to create, testing_account and image_project to test", async () => {
    const { family: _f, image_project: _p, ...doc } = MASH_GCE_DOCS['the test data job']!;
    const message = await refusal(doc);
    assert.match(message, /\$\.family: required: account "gce-prod" is a publishing account/);
    assert.match(message, /\$\.image_project: required to test images of publishing account "gce-prod"/);
    // Without tests the test step does not run, so it needs neither.
    await planRelease({ cloud: 'gce', ...doc, family: 'sles-15', tests: [] }, accounts);
  });

  it('refuses an unknown account or testing account by name before anything starts', async () => {
    const unknown = await planRelease({ cloud: 'gce', ...MASH_GCE_DOCS['a minimal upload-only job'], cloud_account: 'nope' }, accounts).then(
      () => assert.fail('accepted'),
      (e: unknown) => e as ApplicationFailure,
    );
    assert.equal(unknown.type, 'UnknownAccount');
    assert.match(unknown.message, /no GCE account named "nope" \(configured: gce-test, gce-prod\)/);
    const tester = await planRelease(
      { cloud: 'gce', ...MASH_GCE_DOCS['a minimal upload-only job'], last_service: 'test', tests: ['test_hostname'], testing_account: 'gone' },
      accounts,
    ).then(
      () => assert.fail('accepted'),
      (e: unknown) => e as ApplicationFailure,
    );
    assert.match(tester.message, /no GCE account named "gone"/);
  });
});

describe('GCE accounts', () => {
  it("refuses a publishing account without a testing account, as mash does", () => {
    const result = gceAccountSchema.safeParse({ name: 'p', zone: 'us-east1-b', bucket: 'images', is_publishing_account: true, credentials: TEST_GCE_KEY });
    assert.equal(result.success, false);
    assert.deepEqual(result.error?.issues.map((i) => [i.path.join('.'), i.message]), [
      ['testing_account', 'required for a publishing account: its images are tested in another project (mash refuses it too)'],
    ]);
  });

  it("requires the service-account key's fields mash requires, naming each", () => {
    const { client_x509_cert_url: _c, token_uri: _t, ...partial } = TEST_GCE_KEY;
    const result = gceAccountSchema.safeParse({ name: 'k', zone: 'us-east1-b', bucket: 'images', credentials: { ...partial, type: 'authorized_user' } });
    assert.equal(result.success, false);
    const paths = result.error?.issues.map((i) => i.path.join('.')).sort();
    assert.deepEqual(paths, ['credentials.client_x509_cert_url', 'credentials.token_uri', 'credentials.type']);
  });
});
