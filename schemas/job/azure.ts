import { z } from 'zod';
import { baseJobShape } from './base.js';
import { nameTemplate } from './fields.js';
import { LIMITS } from './limits.js';
import {
  AZURE_CONTAINER_PATTERN,
  AZURE_GALLERY_NAME_PATTERN,
  AZURE_REGION_PATTERN,
  AZURE_RESOURCE_GROUP_PATTERN,
  AZURE_STORAGE_ACCOUNT_PATTERN,
  AZURE_SECURITY_TYPES,
  azureImageNameProblem,
} from './azure-names.js';

export { azureCrossFieldIssues } from './azure-rules.js';

/** mash's Azure job fields (mash/services/api/v1/schema/jobs/azure.py @57099be4) that Imagecast does not implement yet: none. */
export const AZURE_UNSUPPORTED_MASH_FIELDS = [] as const;

/**
 * Fields mash itself removed from its Azure job schema, so a document carrying one is invalid
 * for mash too (an unknown key there). They are refused with when and why, not as unknown, so
 * an old document's author learns what to do instead.
 */
export const MASH_REMOVED_AZURE_FIELDS: Readonly<Record<string, string>> = {
  destination_container:
    'mash removed it in 2021 (commit fc1ed74e, with destination_resource_group and destination_storage_account): it fed the ARM-to-ASM copy mash no longer has; the image stays in source_container',
  destination_resource_group:
    'mash removed it in 2021 (commit fc1ed74e, with destination_container and destination_storage_account): it fed the ARM-to-ASM copy mash no longer has; the image stays in source_resource_group',
  destination_storage_account:
    'mash removed it in 2021 (commit fc1ed74e, with destination_container and destination_resource_group): it fed the ARM-to-ASM copy mash no longer has; the image stays in source_storage_account',
  publish_offer:
    'mash removed it in 2022 (commit 5366aa39, "mash only handles updating the offer doc"): publish adds the image to the offer_id/sku draft, and the offer is published outside the job',
};

/** Why a removed mash field is refused: the same words for every cloud's documents. */
export function removedMashField(field: string): string | undefined {
  // Own keys only: "constructor" is no removed field.
  if (!Object.hasOwn(MASH_REMOVED_AZURE_FIELDS, field)) return undefined;
  return `mash field "${field}" no longer exists: ${MASH_REMOVED_AZURE_FIELDS[field]}`;
}

/** A direct-shared gallery's audience: Azure shares with subscriptions and AAD tenants, each named by a GUID. */
const AZURE_SHARE_TARGET = /^(subscription|tenant):[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;

const accountRef = (description: string, example: string) =>
  z.string().min(1).max(LIMITS.name).optional().meta({ description, examples: [example] });

const resourceGroup = z
  .string()
  .regex(AZURE_RESOURCE_GROUP_PATTERN, 'an Azure resource group name: 1-90 letters, digits, "_", "-", ".", "(" and ")", not ending with "."');

/** mash's fields it accepts and never reads; Imagecast accepts them the same way. */
const unused = (what: string) =>
  z
    .string()
    .min(1)
    .max(LIMITS.name)
    .optional()
    .describe(`mash: ${what}. Accepted and unused, as in mash.`);

/**
 * An Azure release job: mash's document as it is (additionalProperties false). The disk goes
 * to a page blob in the source storage account, becomes a managed image (or, with
 * gallery_name, a Compute Gallery image version) and may be published to a Partner Center
 * offer draft.
 */
export const azureJobSchema = z
  .object({
    cloud: z
      .literal('azure')
      .default('azure')
      .describe("The target cloud. May be left out of a file: the CLI's <cloud> argument (or --cloud) fills it in."),
    ...baseJobShape,
    cloud_image_name: nameTemplate
      .superRefine((template, ctx) => {
        const problem = azureImageNameProblem(template);
        if (problem) ctx.addIssue({ code: 'custom', message: problem });
      })
      .meta(baseJobShape.cloud_image_name.meta() ?? {}),
    cloud_account: z
      .string()
      .min(1)
      .max(LIMITS.name)
      .meta({
        description: 'The stored Azure account (a service principal and its storage) the image is made with (imagecast account azure list).',
        examples: ['azure-prod'],
      }),
    partner_center_account: accountRef(
      'The stored Azure account whose service principal publishes to Partner Center. Default: cloud_account.',
      'partner-center',
    ),
    source_container: z
      .string()
      .regex(AZURE_CONTAINER_PATTERN, 'a blob container name: 3-63 lower-case letters, digits and "-", starting with a letter or digit, no "--"')
      .optional()
      .meta({ description: "The blob container the VHD is uploaded to (as <cloud_image_name>.vhd). Default: the account's.", examples: ['images'] }),
    source_resource_group: resourceGroup
      .optional()
      .meta({ description: "The resource group of the storage account and of managed images. Default: the account's.", examples: ['images-rg'] }),
    source_storage_account: z
      .string()
      .regex(AZURE_STORAGE_ACCOUNT_PATTERN, 'a storage account name: 3-24 lower-case letters and digits')
      .optional()
      .meta({ description: "The storage account holding source_container. Default: the account's.", examples: ['suseimages'] }),
    region: z
      .string()
      .regex(AZURE_REGION_PATTERN, 'an Azure region name such as westeurope or eastus2')
      .optional()
      .meta({ description: "The region (location) the image is made and tested in. Default: the account's.", examples: ['westeurope'] }),
    gallery_name: z
      .string()
      .regex(AZURE_GALLERY_NAME_PATTERN, 'a Compute Gallery name: 1-80 letters, digits and ".", starting and ending with a letter or digit')
      .optional()
      .meta({
        description:
          'Make a Compute Gallery image version (YYYY.MM.DD from the date in cloud_image_name) in the definition <offer_id>_<sku> of this gallery, instead of a managed image.',
        examples: ['suse.gallery'],
      }),
    gallery_resource_group: resourceGroup
      .optional()
      .meta({ description: 'The resource group of gallery_name. Default: source_resource_group.', examples: ['gallery-rg'] }),
    publish_from_sig: z
      .boolean()
      .default(false)
      .describe('Publish the gallery image version to the Partner Center offer (instead of the blob by SAS URL). Only with gallery_name.'),
    offer_id: z
      .string()
      .min(1)
      .max(LIMITS.name)
      .optional()
      .meta({ description: 'The Partner Center offer published to (required when publish runs), and the first part of the gallery image definition name.', examples: ['sles-15-sp6'] }),
    sku: z
      .string()
      .min(1)
      .max(LIMITS.name)
      .optional()
      .meta({ description: 'The offer plan (required when publish runs), and the last part of the gallery image definition name.', examples: ['gen1'] }),
    generation_id: z
      .string()
      .min(1)
      .max(LIMITS.name)
      .optional()
      .meta({ description: 'A second plan (usually the Hyper-V generation 2 one) that gets the image too; must differ from sku.', examples: ['gen2'] }),
    additional_regions: z
      .array(z.string().regex(AZURE_REGION_PATTERN, 'an Azure region name such as westeurope or eastus2'))
      .default([])
      .meta({
        description:
          'Imagecast addition: the regions the image goes to besides region, in parallel, each with its own status: the gallery image version is replicated there, or the managed images are copied there (named <name>-<region>, in the same resource group). No duplicates, and not the home region.',
        examples: [['northeurope', 'eastus2']],
        uniqueItems: true,
      }),
    publisher_id: z
      .string()
      .min(1)
      .max(LIMITS.name)
      .optional()
      .describe(
        'mash: the Partner Center publisher, accepted and unused there. Imagecast: the publisher of a gallery image definition it creates because it is missing (default "imagecast").',
      ),
    label: unused('deprecated, the image label in the old Cloud Partner Portal'),
    vm_images_key: unused('deprecated, the key of the image list in the old offer document'),
    cloud_image_name_generation_suffix: unused('deprecated, the suffix of the generation 2 image name'),
    force_replace_image: z
      .boolean()
      .default(false)
      .describe('Replace an existing blob or image of the same name (owned by another release) instead of failing.'),
    security_type: z
      .enum(AZURE_SECURITY_TYPES)
      .optional()
      .meta({
        description:
          'Imagecast addition, with gallery_name: the SecurityType of the generation 2 definitions Imagecast creates (boot_firmware ["uefi"] makes the sku\'s one V2; generation_id\'s always is). TrustedLaunch or ConfidentialVM: VMs from the image must use it (the test VM does; ConfidentialVM tests on Standard_DC2as_v5 unless instance_type says otherwise); the …Supported values let VMs choose. Default TrustedLaunchSupported. A definition that exists with another SecurityType is refused.',
        examples: ['TrustedLaunch'],
      }),
    partner_center: z
      .boolean()
      .default(true)
      .describe(
        'Imagecast addition: whether publish means what it means in mash, adding the image to the Partner Center offer draft (offer_id, sku) — not available yet, so such a document is refused. false: publish shares the gallery by share_with and deprecate retires the earlier versions, with no Partner Center.',
      ),
    share_with: z
      .union(
        [
          z.enum(['all', 'none']),
          z
            .array(z.string().regex(AZURE_SHARE_TARGET, 'subscription:<subscription id> or tenant:<tenant id>, each id a GUID'))
            .min(1)
            .max(LIMITS.listItems),
        ],
        {
          error: (issue) =>
            issue.code === 'invalid_union'
              ? 'use "all", "none" or a list of "subscription:<GUID>" and "tenant:<GUID>"'
              : undefined,
        },
      )
      .default('none')
      .meta({
        description:
          'Imagecast addition, with gallery_name and partner_center false: who may use the gallery\'s images once publish runs. "all": every Azure user, as a community gallery (the gallery must have been made one, with its publisher URI, contact, EULA and public name prefix); a list: those subscriptions and tenants (direct shared gallery); "none": the subscription only. Azure shares a whole gallery, not one version.',
        examples: ['none', ['subscription:8f3c2a10-0000-4000-8000-000000000000', 'tenant:72f988bf-86f1-41af-91ab-2d7cd011db47']],
      }),
  })
  .strict()
  .meta({
    title: 'Imagecast azure release job',
    description:
      'A release job for Microsoft Azure: mash-compatible. The disk is uploaded as a fixed-VHD page blob (zero pages never sent), made into managed images or a Compute Gallery image version, tested on a throw-away VM, and the gallery version replicated (or the managed images copied) to additional_regions. Publish shares the gallery (share_with) and deprecate retires the earlier versions when partner_center is false; publishing to a Partner Center offer draft (mash\'s publish) is not available yet, so a job whose publish would do that is refused, saying so.',
  });

export type AzureJob = z.infer<typeof azureJobSchema>;
