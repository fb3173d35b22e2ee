import { azureGalleryImageDefinition, AZURE_UEFI_SUFFIX } from '../../schemas/job/azure-names.js';
import type { AzureJob } from '../../schemas/job/azure.js';
import type { AzureImageOptions, HyperVGeneration, ReleasePlan } from '../../schemas/release-plan.js';
import { RELEASE_STEPS, type ReleaseStep } from '../../schemas/steps.js';
import type { AccountDirectory } from '../accounts/account-directory.js';

const runs = (job: AzureJob, step: ReleaseStep) => RELEASE_STEPS.indexOf(job.last_service) >= RELEASE_STEPS.indexOf(step);

/**
 * The managed images mash makes, one per firmware (mash/services/create/azure_job.py): "uefi"
 * is a generation 2 image named with `_uefi`; bios and uefi-preferred share the generation 1
 * image (a V1 image boots BIOS, which uefi-preferred images also do).
 */
function managedImages(firmware: readonly string[]): AzureImageOptions['managedImages'] {
  const images: AzureImageOptions['managedImages'] = [];
  if (firmware.some((f) => f !== 'uefi')) images.push({ nameSuffix: '', hyperVGeneration: 'V1' });
  if (firmware.includes('uefi')) images.push({ nameSuffix: AZURE_UEFI_SUFFIX, hyperVGeneration: 'V2' });
  return images;
}

/**
 * The gallery definitions mash puts the version in (azure_sig_job.py): `<offer_id>_<sku>` and,
 * with generation_id, `<offer_id>_<generation_id>`. mash needs them to exist; Imagecast creates
 * missing ones, so it says their generation: generation_id is the second (generation 2) plan,
 * and the sku's is V2 only when the image boots UEFI alone.
 */
function galleryDefinitions(job: AzureJob, firmware: readonly string[]) {
  // Without both (possible only when create does not run) there is nothing to put a version in.
  if (!job.offer_id || !job.sku) return [];
  const skuGeneration: HyperVGeneration = firmware.every((f) => f === 'uefi') ? 'V2' : 'V1';
  const definition = (plan: string, hyperVGeneration: HyperVGeneration) => ({
    name: azureGalleryImageDefinition(job.offer_id!, plan),
    plan,
    hyperVGeneration,
  });
  return [definition(job.sku, skuGeneration), ...(job.generation_id ? [definition(job.generation_id, 'V2')] : [])];
}

/**
 * Where an Azure release goes and with what, after mash's rules (utils/jobs/azure.py): region
 * and source_* default from the account, gallery_resource_group from source_resource_group.
 * The document's own rules (offer_id and sku to publish, a date for gallery versions) are
 * azureCrossFieldIssues'; here every account named is checked to exist before anything starts.
 */
export async function azureTarget(job: AzureJob, accounts: AccountDirectory) {
  const account = await accounts.azureAccount(job.cloud_account);
  // mash's publish is to Partner Center; with partner_center false it is Imagecast's gallery sharing.
  const publishes = runs(job, 'publish') && job.partner_center;
  const publisher = job.partner_center_account ?? account.name;
  // Its existence, before an image is made that cannot be published.
  if (publishes && publisher !== account.name) await accounts.azureAccount(publisher);

  // mash: an empty boot_firmware list means bios.
  const firmware = job.boot_firmware.length > 0 ? job.boot_firmware : ['bios'];
  const resourceGroup = job.source_resource_group ?? account.source_resource_group;
  const imageOptions: AzureImageOptions = {
    cloud: 'azure',
    storageAccount: job.source_storage_account ?? account.source_storage_account,
    container: job.source_container ?? account.source_container,
    resourceGroup,
    managedImages: job.gallery_name ? [] : managedImages(firmware),
    ...(job.gallery_name && {
      gallery: {
        name: job.gallery_name,
        resourceGroup: job.gallery_resource_group ?? resourceGroup,
        definitions: galleryDefinitions(job, firmware),
        publisher: job.publisher_id ?? 'imagecast',
        ...(job.offer_id && { offer: job.offer_id }),
        replicaRegions: job.additional_regions,
        regionalReplicaCount: 1,
        ...(job.security_type && { securityType: job.security_type }),
        // Checked before the upload, so nothing is made that publish could not share.
        ...(job.share_with === 'all' && runs(job, 'publish') && { community: true }),
      },
    }),
    // azureCrossFieldIssues refuses a document that publishes without offer_id and sku.
    ...(publishes && job.offer_id && job.sku && {
      partnerCenter: {
        account: publisher,
        offerId: job.offer_id,
        sku: job.sku,
        ...(job.generation_id && { generationId: job.generation_id }),
        fromGallery: job.publish_from_sig,
      },
    }),
    forceReplace: job.force_replace_image,
    architecture: job.cloud_architecture,
  };
  return {
    account: account.name,
    homeRegion: job.region ?? account.region,
    // mash replicates nothing on Azure; Imagecast replicates a gallery version, or copies the managed images, to additional_regions.
    replicaRegions: job.additional_regions.filter((r) => r !== (job.region ?? account.region)),
    // azureCrossFieldIssues refuses sharing without a gallery or without publish.
    shareWith: (job.gallery_name ? job.share_with : 'none') as ReleasePlan['shareWith'],
    allowCopy: false,
    imageOptions,
  };
}
