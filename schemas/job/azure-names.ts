// Azure resource-name grammars and the names mash derives from a job document.
//
// The grammars are Microsoft's, from "Naming rules and restrictions for Azure resources"
// (https://learn.microsoft.com/en-us/azure/azure-resource-manager/management/resource-name-rules):
// Microsoft.Compute `images`, `galleries`, `galleries / images`; Microsoft.Storage
// `storageAccounts` and `storageAccounts / blobServices / containers`; Microsoft.Resources
// `resourcegroups`. "Alphanumeric" there means ASCII a-z, A-Z and 0-9.
import { describeTemplate, sampleImageName } from './names.js';

/** Managed images: 1-80 alphanumerics, "_", "." and "-"; start alphanumeric; end alphanumeric or "_". */
export const AZURE_IMAGE_NAME_PATTERN = /^[A-Za-z0-9](?:[A-Za-z0-9_.-]{0,78}[A-Za-z0-9_])?$/;

/** Compute galleries: 1-80 alphanumerics and "."; start and end alphanumeric. */
export const AZURE_GALLERY_NAME_PATTERN = /^[A-Za-z0-9](?:[A-Za-z0-9.]{0,78}[A-Za-z0-9])?$/;

/** Gallery image definitions: 1-80 alphanumerics, "_", "-" and "."; start and end alphanumeric. */
export const AZURE_GALLERY_IMAGE_NAME_PATTERN = /^[A-Za-z0-9](?:[A-Za-z0-9_.-]{0,78}[A-Za-z0-9])?$/;

/** Storage accounts: 3-24 lower-case letters and digits. */
export const AZURE_STORAGE_ACCOUNT_PATTERN = /^[a-z0-9]{3,24}$/;

/** Blob containers: 3-63 lower-case letters, digits and "-"; start with a letter or digit; no "--". */
export const AZURE_CONTAINER_PATTERN = /^(?!.*--)[a-z0-9][a-z0-9-]{2,62}$/;

/**
 * Resource groups: 1-90 of "_", "-", ".", "(", ")" and Unicode letters or decimal digits
 * (.NET's Char.IsLetterOrDigit: the L categories and Nd); not ending with ".".
 */
export const AZURE_RESOURCE_GROUP_PATTERN = /^[-\p{L}\p{Nd}_.()]{0,89}[-\p{L}\p{Nd}_()]$/u;

/** Region (location) names as ARM spells them: westeurope, eastus2, germanywestcentral. */
export const AZURE_REGION_PATTERN = /^[a-z][a-z0-9]{1,39}$/;

/** mash names the UEFI (Hyper-V generation 2) managed image `<cloud_image_name>_uefi`. */
export const AZURE_UEFI_SUFFIX = '_uefi';

/**
 * A managed image copied to another region: Azure names images per resource group, not per
 * region, so the copy (in the home images' resource group) is `<name>-<region>` (and
 * `<name>_uefi-<region>` for the UEFI twin). Its region name ends it, letter or digit.
 */
export const azureRegionalImageName = (imageName: string, region: string) => `${imageName}-${region}`;

export const AZURE_IMAGE_NAME_RULE =
  'letters, digits, "_", "." and "-", starting with a letter or digit, ending with a letter, digit or "_", at most 80 characters';

/**
 * Why a `cloud_image_name` template cannot make an Azure managed image name, or undefined.
 * mash only learns this from ARM, after the upload; here the document is refused up front.
 */
export function azureImageNameProblem(template: string): string | undefined {
  const expanded = sampleImageName(template);
  if (AZURE_IMAGE_NAME_PATTERN.test(expanded)) return undefined;
  return `${describeTemplate(template)} is not an Azure image name: ${AZURE_IMAGE_NAME_RULE}`;
}

/**
 * The gallery image version mash makes from an image name: the first 8-digit run read as a
 * date, `YYYYMMDD` → `YYYY.MM.DD` (mash/services/create/azure_sig_job.py). Undefined when the
 * name has no such run or it is no calendar date (mash crashes on both).
 */
export function azureGalleryImageVersion(imageName: string): string | undefined {
  const run = /\d{8}/.exec(imageName)?.[0];
  if (!run) return undefined;
  const [year, month, day] = [run.slice(0, 4), run.slice(4, 6), run.slice(6, 8)];
  const date = new Date(`${year}-${month}-${day}T00:00:00Z`);
  if (Number.isNaN(date.getTime()) || date.toISOString().slice(0, 10) !== `${year}-${month}-${day}`) return undefined;
  return `${year}.${month}.${day}`;
}

/**
 * The gallery image definition of a plan, as mash names it: offer_id with "-" made "_", then
 * "_" and the plan (sku or generation_id) as it is (azure_sig_job.py `_create_image`).
 */
export function azureGalleryImageDefinition(offerId: string, plan: string): string {
  return `${offerId.replace(/-/g, '_')}_${plan}`;
}

/**
 * A gallery image definition's `SecurityType` feature (az sig image-definition create
 * --features SecurityType=…; https://learn.microsoft.com/azure/virtual-machines/trusted-launch-portal
 * and …/confidential-vm-overview): "…Supported" lets VMs choose, the others require it.
 */
export const AZURE_SECURITY_TYPES = [
  'TrustedLaunchSupported',
  'TrustedLaunch',
  'ConfidentialVmSupported',
  'ConfidentialVM',
  'TrustedLaunchAndConfidentialVmSupported',
] as const;
export type AzureSecurityType = (typeof AZURE_SECURITY_TYPES)[number];
