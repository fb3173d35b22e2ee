/**
 * The job fields of mash's clouds that Imagecast has no provider for, and no issue to add one
 * (mash/services/api/v1/schema/jobs/{oci,aliyun}.py @57099be4): a document carrying one is
 * refused with that reason, never as an unknown field.
 */
const OTHER_MASH_CLOUD_FIELDS: Record<string, readonly string[]> = {
  oci: [
    'bucket',
    'availability_domain',
    'compartment_id',
    'operating_system',
    'operating_system_version',
    'image_type',
    'launch_mode',
  ],
  aliyun: ['platform', 'launch_permission', 'bucket', 'security_group_id', 'vswitch_id', 'disk_size', 'nvme_support'],
};

/** The mash clouds outside Imagecast whose job documents have `field`. */
export function otherMashClouds(field: string): string[] {
  return Object.entries(OTHER_MASH_CLOUD_FIELDS)
    .filter(([, fields]) => fields.includes(field))
    .map(([cloud]) => cloud);
}
