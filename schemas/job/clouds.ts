import type { z } from 'zod';
import type { CloudName } from '../steps.js';
import { baseJobShape, UNSUPPORTED_MASH_FIELD_REASONS, UNSUPPORTED_MASH_FIELDS } from './base.js';
import { AZURE_UNSUPPORTED_MASH_FIELDS, azureJobSchema, removedMashField, type AzureJob } from './azure.js';
import { EC2_UNSUPPORTED_MASH_FIELD_REASONS, EC2_UNSUPPORTED_MASH_FIELDS, ec2JobSchema, type Ec2Job } from './ec2.js';
import { GCE_UNSUPPORTED_MASH_FIELDS, gceJobSchema, type GceJob } from './gce.js';
import { localJobSchema, type LocalJob } from './local.js';
import { otherMashClouds } from './other-clouds.js';

/** One zod schema per cloud: the single source of truth for its job documents. */
export const jobSchemas = {
  local: localJobSchema,
  ec2: ec2JobSchema,
  gce: gceJobSchema,
  azure: azureJobSchema,
} as const satisfies Record<CloudName, z.ZodObject>;

/** Clouds whose provider exists: parseJob accepts jobs for these only. */
export const AVAILABLE_CLOUDS = ['local', 'ec2', 'gce', 'azure'] as const satisfies readonly CloudName[];
export type AvailableCloud = (typeof AVAILABLE_CLOUDS)[number];

/** A valid job document of any cloud, whether or not its provider is available yet. */
export type CloudJob = LocalJob | Ec2Job | GceJob | AzureJob;

/**
 * A job parseJob accepted, discriminated by `cloud`. Widening AVAILABLE_CLOUDS widens this
 * union, and the compiler then points at every place that must handle the new cloud.
 */
export type ReleaseJob = Extract<CloudJob, { cloud: AvailableCloud }>;

const CLOUD_UNSUPPORTED_MASH_FIELDS: Record<CloudName, readonly string[]> = {
  local: [],
  ec2: EC2_UNSUPPORTED_MASH_FIELDS,
  gce: GCE_UNSUPPORTED_MASH_FIELDS,
  azure: AZURE_UNSUPPORTED_MASH_FIELDS,
};

/** mash fields a `cloud` job may carry that Imagecast refuses (by name) until it implements them. */
export function unsupportedMashFields(cloud: CloudName): readonly string[] {
  // A shared mash field a cloud implements (GCE's force_replace_image) is in its schema.
  const shared = UNSUPPORTED_MASH_FIELDS.filter((field) => !(field in jobSchemas[cloud].shape));
  return [...shared, ...CLOUD_UNSUPPORTED_MASH_FIELDS[cloud]];
}

/**
 * Why a `cloud` job may not carry `field`, when it is a mash field Imagecast refuses by name:
 * one mash itself removed (with when and why), not supported yet (with the reason where there
 * is one), or a field of a cloud Imagecast does not release to. Undefined for fields that are
 * simply unknown.
 */
export function refusedMashField(cloud: CloudName, field: string): string | undefined {
  const removed = removedMashField(field);
  if (removed) return removed;
  if (unsupportedMashFields(cloud).includes(field)) {
    const reason = UNSUPPORTED_MASH_FIELD_REASONS[field] ?? (cloud === 'ec2' ? EC2_UNSUPPORTED_MASH_FIELD_REASONS[field] : undefined);
    return `mash field "${field}" is not supported by Imagecast yet${reason ? `: ${reason}` : ''}`;
  }
  const elsewhere = otherMashClouds(field);
  if (elsewhere.length > 0 && mashFieldClouds(field).length === 0)
    return `mash field "${field}" belongs to ${elsewhere.join('/')} jobs, a cloud Imagecast does not release to`;
  return undefined;
}

/** The clouds whose job documents have `field` as a cloud-specific field (implemented or not). */
export function mashFieldClouds(field: string): CloudName[] {
  return (Object.keys(CLOUD_UNSUPPORTED_MASH_FIELDS) as CloudName[]).filter(
    (cloud) =>
      CLOUD_UNSUPPORTED_MASH_FIELDS[cloud].includes(field) ||
      (field in jobSchemas[cloud].shape && !(field in baseJobShape) && field !== 'cloud'),
  );
}
