// mash's rules between the fields of an Azure job document (mash/services/api/v1/utils/jobs/
// azure.py), and the ones mash only discovers by crashing in create (azure_sig_job.py). Each
// works on the raw document, so a refusal lists them with the schema's own problems; a field
// of the wrong type is the schema's to report and is skipped here.
import { LAST_SERVICE_STEPS, RELEASE_STEPS, type ReleaseStep } from '../steps.js';
import {
  AZURE_GALLERY_IMAGE_NAME_PATTERN,
  AZURE_IMAGE_NAME_PATTERN,
  AZURE_REGION_PATTERN,
  AZURE_UEFI_SUFFIX,
  azureGalleryImageDefinition,
  azureGalleryImageVersion,
  azureRegionalImageName,
} from './azure-names.js';
import { describeTemplate, sampleImageName } from './names.js';
import { MASH_LAST_SERVICE_ALIASES } from './fields.js';

export interface AzureFieldIssue {
  path: Array<string | number>;
  message: string;
}

type Doc = Record<string, unknown>;

const text = (value: unknown): string | undefined => (typeof value === 'string' && value.length > 0 ? value : undefined);

/** The last step the document runs, or undefined when last_service is not a step (the schema says so). */
function lastStep(doc: Doc): ReleaseStep | undefined {
  const named = doc.last_service ?? 'deprecate';
  if (typeof named !== 'string') return undefined;
  const step = named in MASH_LAST_SERVICE_ALIASES ? MASH_LAST_SERVICE_ALIASES[named as keyof typeof MASH_LAST_SERVICE_ALIASES] : named;
  return (LAST_SERVICE_STEPS as readonly string[]).includes(step) ? (step as ReleaseStep) : undefined;
}

function runs(doc: Doc, step: ReleaseStep): boolean {
  const last = lastStep(doc);
  return last !== undefined && RELEASE_STEPS.indexOf(last) >= RELEASE_STEPS.indexOf(step);
}

const lastServiceWords = (doc: Doc) =>
  doc.last_service === undefined ? 'last_service defaults to "deprecate", which includes it' : `last_service ${JSON.stringify(doc.last_service)} includes it`;

/** A gallery of the wrong type is the schema's problem: the gallery rules wait until it is a name. */
const hasGallery = (doc: Doc) => text(doc.gallery_name) !== undefined;

/** publish_from_sig publishes the gallery version, so there must be a gallery (mash: only with gallery_name). */
export function publishFromSigIssues(doc: Doc): AzureFieldIssue[] {
  if (doc.publish_from_sig !== true || doc.gallery_name !== undefined) return [];
  return [{ path: ['publish_from_sig'], message: 'true needs gallery_name (it publishes the gallery image version), and gallery_name is not given' }];
}

/**
 * mash: when publish runs (to Partner Center), offer_id and sku are required and sku ≠ generation_id. With
 * gallery_name, create needs them too: they name the image definition the version goes in.
 */
export function offerIssues(doc: Doc): AzureFieldIssue[] {
  const publishes = runs(doc, 'publish') && doc.partner_center !== false;
  const gallery = hasGallery(doc) && runs(doc, 'create');
  if (!publishes && !gallery) return [];
  const why = publishes
    ? `required when publish runs (${lastServiceWords(doc)}), as in mash`
    : 'required with gallery_name: the image version goes in the definition <offer_id>_<sku>';
  const issues: AzureFieldIssue[] = [];
  for (const field of ['offer_id', 'sku'] as const) {
    if (doc[field] === undefined) issues.push({ path: [field], message: `${why}; it is not given` });
  }
  const sku = text(doc.sku);
  if (sku !== undefined && doc.generation_id === sku) {
    issues.push({ path: ['generation_id'], message: `must differ from sku (it is a second plan), got the same "${sku}"` });
  }
  return issues;
}

/**
 * With gallery_name: the version is YYYY.MM.DD from the first 8-digit date of the image name,
 * and the definitions <offer_id>_<sku> (and _<generation_id>) must be gallery image names.
 */
export function galleryIssues(doc: Doc): AzureFieldIssue[] {
  if (!hasGallery(doc) || !runs(doc, 'create')) return [];
  const issues: AzureFieldIssue[] = [];
  const template = text(doc.cloud_image_name);
  if (template !== undefined && azureGalleryImageVersion(sampleImageName(template)) === undefined) {
    const expanded = sampleImageName(template);
    issues.push({
      path: ['cloud_image_name'],
      message: `with gallery_name the image version is YYYY.MM.DD from the first 8-digit date in the name; ${describeTemplate(template)} ${/\d{8}/.test(expanded) ? 'starts with 8 digits that are no date' : 'has none'}: add {date}`,
    });
  }
  const offer = text(doc.offer_id);
  for (const plan of ['sku', 'generation_id'] as const) {
    const value = text(doc[plan]);
    if (offer === undefined || value === undefined) continue;
    const definition = azureGalleryImageDefinition(offer, value);
    if (AZURE_GALLERY_IMAGE_NAME_PATTERN.test(definition)) continue;
    issues.push({
      path: [plan],
      message: `makes the gallery image definition "${definition}" (offer_id with "-" as "_", "_", ${plan}), which is not one: letters, digits, "_", "-" and ".", starting and ending with a letter or digit, at most 80 characters`,
    });
  }
  return issues;
}

/** mash names the UEFI managed image <name>_uefi: that name must fit Azure's 80 characters too. */
export function uefiNameIssues(doc: Doc): AzureFieldIssue[] {
  const template = text(doc.cloud_image_name);
  const firmware = Array.isArray(doc.boot_firmware) ? doc.boot_firmware : [];
  if (template === undefined || hasGallery(doc) || !firmware.includes('uefi')) return [];
  const name = `${sampleImageName(template)}${AZURE_UEFI_SUFFIX}`;
  // The name alone is the schema's to check; only the suffix's own trouble is reported here.
  if (!AZURE_IMAGE_NAME_PATTERN.test(sampleImageName(template)) || AZURE_IMAGE_NAME_PATTERN.test(name)) return [];
  return [{
    path: ['cloud_image_name'],
    message: `boot_firmware "uefi" makes the managed image "${name}" (mash's ${AZURE_UEFI_SUFFIX} suffix), ${name.length} characters with placeholders filled in; Azure image names are at most 80`,
  }];
}

/**
 * Partner Center's Product Ingestion API has no SDK, and its offer-document shapes (above
 * all publish_from_sig's) could not be confirmed against a reference: rather than accept a
 * publish that might do the wrong thing to a live offer, mash's publish is refused by name.
 * `"partner_center": false` asks for Imagecast's publish instead (gallery sharing), so the
 * Partner Center fields must not be there to be silently ignored.
 */
export function partnerCenterIssues(doc: Doc): AzureFieldIssue[] {
  if (doc.partner_center === false) {
    const issues: AzureFieldIssue[] = [];
    if (doc.partner_center_account !== undefined)
      issues.push({ path: ['partner_center_account'], message: 'names the account that publishes to Partner Center, but partner_center is false: leave it out' });
    if (doc.publish_from_sig === true)
      issues.push({ path: ['publish_from_sig'], message: 'true publishes the gallery version to the Partner Center offer, but partner_center is false' });
    return issues;
  }
  if (!runs(doc, 'publish')) return [];
  return [{
    path: ['last_service'],
    message: `publish runs (${lastServiceWords(doc)}) and would add the image to the Partner Center offer draft (offer_id, sku), which Imagecast cannot do yet: set last_service to "replicate" (the image is made, tested and replicated, and stays private to the subscription), or "partner_center": false to publish by sharing the gallery (share_with) and deprecate earlier releases without Partner Center`,
  }];
}

/** Azure shares galleries, never a managed image; and a sharing nobody runs is no sharing. */
export function shareWithIssues(doc: Doc): AzureFieldIssue[] {
  const share = doc.share_with;
  if (share === undefined || share === 'none') return [];
  if (!hasGallery(doc)) {
    return [{ path: ['share_with'], message: 'needs gallery_name: Azure shares the images of a Compute Gallery; a managed image stays in its subscription' }];
  }
  if (!runs(doc, 'publish')) {
    return [{ path: ['share_with'], message: `is what publish shares, and publish does not run (last_service ${JSON.stringify(doc.last_service)}): leave it out or let publish run` }];
  }
  const issues: AzureFieldIssue[] = [];
  if (Array.isArray(share)) {
    const seen = new Set<string>();
    share.forEach((target, i) => {
      const key = String(target).toLowerCase();
      if (seen.has(key)) issues.push({ path: ['share_with', i], message: `"${String(target)}" is listed twice` });
      seen.add(key);
    });
  }
  return issues;
}

/** A security type is a gallery definition's feature, and only generation 2 definitions have one. */
export function securityTypeIssues(doc: Doc): AzureFieldIssue[] {
  if (doc.security_type === undefined) return [];
  if (!hasGallery(doc)) {
    return [{ path: ['security_type'], message: 'needs gallery_name: it is a feature of the gallery image definition (managed images have none)' }];
  }
  const firmware = Array.isArray(doc.boot_firmware) ? doc.boot_firmware : [];
  const uefiOnly = firmware.length > 0 && firmware.every((f) => f === 'uefi');
  if (uefiOnly || text(doc.generation_id) !== undefined) return [];
  return [{
    path: ['security_type'],
    message: 'needs a generation 2 definition: set boot_firmware to ["uefi"] (the sku\'s definition becomes V2) or give generation_id (a V2 definition); Trusted Launch and confidential VMs boot UEFI only',
  }];
}

/**
 * additional_regions replicate a gallery version, or copy the managed images, to each region
 * (once, not the home region). A managed image's copy is named `<name>-<region>` (its
 * `_uefi` twin `<name>_uefi-<region>`), which must fit Azure's 80 characters too.
 */
export function additionalRegionIssues(doc: Doc): AzureFieldIssue[] {
  if (!Array.isArray(doc.additional_regions) || doc.additional_regions.length === 0) return [];
  const issues: AzureFieldIssue[] = [];
  const seen = new Set<unknown>();
  const template = text(doc.cloud_image_name);
  const firmware = Array.isArray(doc.boot_firmware) ? doc.boot_firmware : [];
  // The name alone is the schema's (or uefiNameIssues') to check; only the region's ending is reported here.
  const longest = template === undefined || hasGallery(doc) ? undefined : `${sampleImageName(template)}${firmware.includes('uefi') ? AZURE_UEFI_SUFFIX : ''}`;
  doc.additional_regions.forEach((region, i) => {
    if (region === doc.region) issues.push({ path: ['additional_regions', i], message: `"${String(region)}" is the home region (region) already` });
    else if (seen.has(region)) issues.push({ path: ['additional_regions', i], message: `"${String(region)}" is listed twice` });
    else if (longest !== undefined && typeof region === 'string' && AZURE_REGION_PATTERN.test(region) && AZURE_IMAGE_NAME_PATTERN.test(longest)) {
      const copy = azureRegionalImageName(longest, region);
      if (!AZURE_IMAGE_NAME_PATTERN.test(copy))
        issues.push({
          path: ['additional_regions', i],
          message: `the managed image copied to "${region}" is named "${copy}" (<name>-<region>: Azure names images per resource group, not per region), ${copy.length} characters with placeholders filled in; Azure image names are at most 80: shorten cloud_image_name or use gallery_name`,
        });
    }
    seen.add(region);
  });
  return issues;
}

/** Every rule between fields of an Azure job document, in the order of the fields they name. */
export function azureCrossFieldIssues(doc: Doc): AzureFieldIssue[] {
  return [
    ...partnerCenterIssues(doc),
    ...publishFromSigIssues(doc),
    ...offerIssues(doc),
    ...galleryIssues(doc),
    ...uefiNameIssues(doc),
    ...additionalRegionIssues(doc),
    ...securityTypeIssues(doc),
    ...shareWithIssues(doc),
  ];
}
