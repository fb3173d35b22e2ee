// mash's current job schemas (SUSE-Enceladus/mash @57099be4, mash/services/api/v1/schema/jobs/),
// field by field: each is implemented, an alias of ours, or refused by name. Never "unknown".
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { formatIssues, parseJob } from '../../schemas/job/index.js';

/** A plausible value of every field of mash's base and EC2 job schemas. */
const MASH_EC2_FIELDS: Record<string, unknown> = {
  last_service: 'publish',
  utctime: 'now',
  image: 'openSUSE-Leap-15.0-EC2-HVM',
  cloud_image_name: 'openSUSE-Leap-15.0-v{date}-hvm-ssd-x86_64',
  old_cloud_image_name: 'openSUSE-Leap-15.0-v20190313-hvm-ssd-x86_64',
  conditions: [{ package_name: 'kernel-default', version: '4.13.1', condition: '>=' }],
  download_account: 'my_aws_account',
  download_type: 'OBS',
  download_url: 'https://download.opensuse.org/repositories/Cloud:/Images:/Leap_15.0/images/',
  image_description: 'openSUSE Leap 15.0 (HVM, 64-bit, SSD-Backed)',
  distro: 'sles',
  instance_type: 't2.micro',
  ssh_user: 'root',
  tests: ['test_sles'],
  cleanup_images: true,
  cloud_architecture: 'x86_64',
  notification_email: 'test@fake.com',
  notify: true,
  profile: 'Proxy',
  conditions_wait_time: 900,
  raw_image_upload_type: 's3bucket',
  raw_image_upload_location: 'my-bucket/prefix/',
  raw_image_upload_account: 'my_aws_account',
  disallow_licenses: ['MIT'],
  disallow_packages: ['*-mini'],
  boot_firmware: ['uefi'],
  additional_uploads: ['sha256.asc'],
  dry_run: true,
  use_build_time: true,
  force_replace_image: true,
  // ec2.py
  share_with: '123456789012,098765432109',
  allow_copy: 'image',
  billing_codes: 'bp-1234567890,bp-0987654321',
  use_root_swap: false,
  cloud_accounts: [{ name: 'account1', region: 'us-east-2', root_swap_ami: 'ami-1234567890', subnet: 'subnet-12345678' }],
  cloud_account: 'account1',
  cloud_groups: ['group1', 'group2'],
  skip_replication: true,
  publish_in_marketplace: true,
  entity_id: '12345678-1234-1234-1234-012345678912',
  version_title: 'openSUSE Leap 15.3 - v202220114',
  release_notes: 'Information about a new version',
  access_role_arn: 'arn:aws:iam::123456789012:role/exampleRole',
  os_name: 'OTHERLINUX',
  os_version: '15.3',
  usage_instructions: 'Instructions on image usage...',
  recommended_instance_type: 't3.medium',
  tpm_support: 'v2.0',
  launch_inst_type: 'm1.large',
  imds_version: 'v2.0',
  cpu_options: { AmdSevSnp: 'enabled' },
  root_volume_size: 10,
  upload_wait_count: 1,
  image_tags: [{ Key: 'date', Value: '20220202' }],
};

/** mash's GCE, Azure, OCI and Aliyun job fields beyond the base ones. */
const OTHER_CLOUD_FIELDS = {
  gce: ['family', 'months_to_deletion', 'guest_os_features', 'licenses', 'test_fallback_regions', 'testing_account', 'bucket', 'image_project', 'skip_rollout'],
  azure: ['label', 'offer_id', 'publisher_id', 'sku', 'generation_id', 'cloud_image_name_generation_suffix', 'vm_images_key', 'partner_center_account', 'source_container', 'source_resource_group', 'source_storage_account', 'gallery_name', 'gallery_resource_group', 'publish_from_sig'],
  oci: ['availability_domain', 'compartment_id', 'operating_system', 'operating_system_version', 'image_type', 'launch_mode'],
  aliyun: ['platform', 'launch_permission', 'security_group_id', 'vswitch_id', 'disk_size', 'nvme_support'],
};

const RAW_UPLOAD_FIELDS = Object.fromEntries(Object.entries(MASH_EC2_FIELDS).filter(([f]) => f.startsWith('raw_image_upload_')));

const ACCEPTED_ALONE = { cloud_account: 'account1', image: 'x', download_url: 'https://a.example/b/', cloud_image_name: 'n-{date}', image_description: 'd' };

describe("mash's job fields", () => {
  it('knows every field of the current EC2 schema: accepted, or refused by name with why', () => {
    for (const [field, value] of Object.entries(MASH_EC2_FIELDS)) {
      // Account fields exclude each other: each is tried on its own.
      const base = field === 'cloud_accounts' || field === 'cloud_groups' ? (({ cloud_account: _, ...rest }) => rest)(ACCEPTED_ALONE) : ACCEPTED_ALONE;
      const firmware = field === 'cpu_options' || field === 'tpm_support' ? { boot_firmware: ['uefi'] } : {};
      const sharing = field === 'allow_copy' ? { share_with: 'all' } : {};
      // The raw upload fields go together (a type needs its location and account).
      const raw = field.startsWith('raw_image_upload_') || field === 'additional_uploads' ? RAW_UPLOAD_FIELDS : {};
      // download_account names the account of an S3 download.
      const s3 = field === 'download_account' ? { download_type: 'S3', download_url: 's3://builds/img.x86_64.raw.xz' } : {};
      const result = parseJob({ ...base, ...firmware, ...sharing, ...raw, ...s3, [field]: value }, 'ec2');
      if (result.ok) continue;
      assert.deepEqual(result.issues.map((i) => i.path), [`$.${field}`], `${field}: ${formatIssues(result.issues)}`);
      assert.match(result.issues[0]!.message, new RegExp(`^mash field "${field}" is not supported by Imagecast yet`), field);
    }
  });

  it('names the cloud of every other cloud-specific field', () => {
    for (const [cloud, fields] of Object.entries(OTHER_CLOUD_FIELDS)) {
      for (const field of fields) {
        const result = parseJob({ ...ACCEPTED_ALONE, [field]: 'x' }, 'ec2');
        assert.equal(result.ok, false, field);
        const message = result.ok ? '' : result.issues[0]!.message;
        assert.match(message, new RegExp(`^mash field "${field}" belongs to ([a-z]+/)*${cloud}`), `${field}: ${message}`);
      }
    }
  });

  it('takes mash last_service test_preparation and test_cleanup as create and test, and distro rhel', () => {
    const stop = (last_service: string) => {
      const result = parseJob({ ...ACCEPTED_ALONE, last_service, distro: 'rhel' }, 'ec2');
      assert.ok(result.ok, result.ok ? '' : formatIssues(result.issues));
      return result.job.last_service;
    };
    assert.equal(stop('test_preparation'), 'create');
    assert.equal(stop('test_cleanup'), 'test');
    assert.equal(stop('replicate'), 'replicate');
  });

  it('reads imds_version ("2.0" or "v2.0") as imds_support, and refuses both at once', () => {
    for (const imds_version of ['2.0', 'v2.0']) {
      const result = parseJob({ ...ACCEPTED_ALONE, imds_version }, 'ec2');
      assert.ok(result.ok && result.job.cloud === 'ec2');
      assert.equal(result.job.imds_support, 'v2.0');
      assert.equal('imds_version' in result.job, false, 'one name in the job the plan reads');
    }
    const both = parseJob({ ...ACCEPTED_ALONE, imds_version: 'v2.0', imds_support: 'v2.0' }, 'ec2');
    assert.deepEqual(both.ok ? [] : both.issues, [{ path: '$.imds_version', message: "imds_version is mash's name for imds_support: use one of them" }]);
  });

  it('needs UEFI for SEV-SNP test instances, as EC2 does', () => {
    const result = parseJob({ ...ACCEPTED_ALONE, cpu_options: { AmdSevSnp: 'enabled' } }, 'ec2');
    assert.deepEqual(result.ok ? [] : result.issues, [
      { path: '$.cpu_options.AmdSevSnp', message: 'AMD SEV-SNP needs UEFI: add "uefi" or "uefi-preferred" to boot_firmware' },
    ]);
    const unknown = parseJob({ ...ACCEPTED_ALONE, boot_firmware: ['uefi'], cpu_options: { AmdSevSnp: 'on', CoreCount: 2 } }, 'ec2');
    assert.deepEqual(unknown.ok ? [] : unknown.issues, [
      { path: '$.cpu_options.AmdSevSnp', message: 'expected one of "enabled", "disabled", got string "on"' },
      { path: '$.cpu_options.CoreCount', message: 'unknown field "CoreCount"' },
    ]);
  });
});
