import type { z } from 'zod';
import { pendingCloudJobSchema } from './pending-cloud.js';

/** mash's Azure job fields (mash/services/api/v1/schema/jobs/azure.py) that Imagecast does not implement yet. */
export const AZURE_UNSUPPORTED_MASH_FIELDS = [
  'cloud_account',
  'region',
  'source_resource_group',
  'source_storage_account',
  'source_container',
  'cloud_image_name_generation_suffix',
  // Partner Center (marketplace) publishing
  'publish_offer',
  'offer_id',
  'publisher_id',
  'sku',
  'generation_id',
  'label',
  'vm_images_key',
  'partner_center_account',
  // Shared image gallery
  'gallery_name',
  'gallery_resource_group',
  'publish_from_sig',
] as const;

/** Placeholder until the Azure provider lands: parseJob refuses azure jobs. */
export const azureJobSchema = pendingCloudJobSchema('azure', 'Microsoft Azure');

export type AzureJob = z.infer<typeof azureJobSchema>;
