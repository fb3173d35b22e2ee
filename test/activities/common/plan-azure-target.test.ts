import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { ApplicationFailure } from '@temporalio/common';
import { azureTarget } from '../../../activities/common/plan-azure-target.js';
import { accountDirectory } from '../../../activities/accounts/account-directory.js';
import { azureJobSchema } from '../../../schemas/job/azure.js';
import { MASH_AZURE_DOCS } from '../../support/azure-jobs.js';

const principal = {
  clientId: '09876543-1234-1234-1234-123456789012',
  clientSecret: 'not-a-real-secret',
  subscriptionId: '09876543-1234-1234-1234-123456789012',
  tenantId: '09876543-1234-1234-1234-123456789012',
};
const account = (name: string, region: string) => ({
  name,
  region,
  source_container: `${name}-images`,
  source_resource_group: `${name}-rg`,
  source_storage_account: name.replace(/-/g, ''),
  credentials: principal,
});
const accounts = accountDirectory({
  azure: [account('azure-test', 'westeurope'), account('account1', 'eastus'), account('partner1', 'eastus'), account('test-azure', 'eastus')],
});

/** The plan's target of a document the schema accepted (mash's rules are the document tests'). */
const target = (doc: Record<string, unknown>) => azureTarget(azureJobSchema.parse(doc), accounts);

describe('azure release target', () => {
  it('takes region and source_* from the account, and makes one managed image per generation boot_firmware asks for', async () => {
    const planned = await target(MASH_AZURE_DOCS['a BIOS and UEFI test job with mash-only steps']!);
    assert.equal(planned.account, 'azure-test');
    assert.equal(planned.homeRegion, 'westeurope');
    assert.deepEqual(planned.replicaRegions, []);
    assert.deepEqual(planned.imageOptions, {
      cloud: 'azure',
      storageAccount: 'azuretest',
      container: 'azure-test-images',
      resourceGroup: 'azure-test-rg',
      managedImages: [
        { nameSuffix: '', hyperVGeneration: 'V1' },
        { nameSuffix: '_uefi', hyperVGeneration: 'V2' },
      ],
      forceReplace: true,
      architecture: 'aarch64',
    });
  });

  it('makes generation 1 images for bios and uefi-preferred, as mash does, and bios when the list is empty', async () => {
    const doc = MASH_AZURE_DOCS['a minimal upload-only job']!;
    for (const boot_firmware of [['uefi-preferred'], [], ['bios', 'uefi-preferred']]) {
      const planned = await target({ ...doc, boot_firmware });
      assert.deepEqual(planned.imageOptions.managedImages, [{ nameSuffix: '', hyperVGeneration: 'V1' }], JSON.stringify(boot_firmware));
    }
    const uefi = await target({ ...doc, boot_firmware: ['uefi'] });
    assert.deepEqual(uefi.imageOptions.managedImages, [{ nameSuffix: '_uefi', hyperVGeneration: 'V2' }]);
  });

  it('takes the job fields over the account, and publishes the managed image through the release account', async () => {
    const planned = await target(MASH_AZURE_DOCS['the test data job (managed image, published by SAS URL)']!);
    assert.equal(planned.homeRegion, 'southcentralus');
    assert.deepEqual(planned.imageOptions, {
      cloud: 'azure',
      storageAccount: 'sa1',
      container: 'container1',
      resourceGroup: 'rg-1',
      managedImages: [{ nameSuffix: '', hyperVGeneration: 'V1' }],
      partnerCenter: { account: 'test-azure', offerId: 'sles', sku: '123', fromGallery: false },
      forceReplace: false,
      architecture: 'x86_64',
    });
  });

  it('puts a gallery version in <offer_id>_<sku> and <offer_id>_<generation_id>, the gallery group defaulting to source_resource_group', async () => {
    const { gallery_resource_group: _g, ...doc } = MASH_AZURE_DOCS["the schema's examples, publishing from a gallery"]!;
    const planned = await target({ ...doc, offer_id: 'sles-15-sp6' });
    assert.deepEqual(planned.imageOptions.managedImages, []);
    assert.deepEqual(planned.imageOptions.gallery, {
      name: 'gallery1',
      resourceGroup: 'res_group1',
      definitions: [
        { name: 'sles_15_sp6_15', plan: '15', hyperVGeneration: 'V1' },
        { name: 'sles_15_sp6_gen2', plan: 'gen2', hyperVGeneration: 'V2' },
      ],
      publisher: 'suse',
      offer: 'sles-15-sp6',
      replicaRegions: [],
      regionalReplicaCount: 1,
    });
    assert.deepEqual(planned.imageOptions.partnerCenter, { account: 'partner1', offerId: 'sles-15-sp6', sku: '15', generationId: 'gen2', fromGallery: true });
    const withGroup = await target(MASH_AZURE_DOCS["the schema's examples, publishing from a gallery"]!);
    assert.equal(withGroup.imageOptions.gallery?.resourceGroup, 'rg1');
  });

  it('replicates a gallery version to additional_regions (never the home region again)', async () => {
    const doc = MASH_AZURE_DOCS["the schema's examples, publishing from a gallery"]!;
    const planned = await target({ ...doc, last_service: 'replicate', additional_regions: ['eastus', 'westus2'] });
    assert.equal(planned.homeRegion, 'westus');
    assert.deepEqual(planned.replicaRegions, ['eastus', 'westus2']);
    assert.deepEqual(planned.imageOptions.gallery?.replicaRegions, ['eastus', 'westus2']);
  });

  it('copies managed images to additional_regions too (no gallery)', async () => {
    const doc = MASH_AZURE_DOCS['a BIOS and UEFI test job with mash-only steps']!;
    const planned = await target({ ...doc, last_service: 'replicate', additional_regions: ['northeurope', 'eastus'] });
    assert.deepEqual(planned.replicaRegions, ['northeurope', 'eastus']);
    assert.equal(planned.imageOptions.gallery, undefined);
    assert.equal(planned.imageOptions.managedImages.length, 2);
  });

  it('refuses an unknown account or Partner Center account by name before anything starts', async () => {
    const refusal = (doc: Record<string, unknown>) =>
      target(doc).then(
        () => assert.fail('accepted'),
        (e: unknown) => e as ApplicationFailure,
      );
    const unknown = await refusal({ ...MASH_AZURE_DOCS['a minimal upload-only job'], cloud_account: 'nope' });
    assert.equal(unknown.type, 'UnknownAccount');
    assert.match(unknown.message, /no Azure account named "nope" \(configured: azure-test, account1, partner1, test-azure\)/);
    const publisher = await refusal({ ...MASH_AZURE_DOCS["the schema's examples, publishing from a gallery"], partner_center_account: 'gone' });
    assert.match(publisher.message, /no Azure account named "gone"/);
    // Without publish, the Partner Center account is never needed.
    await target({ ...MASH_AZURE_DOCS["the schema's examples, publishing from a gallery"], partner_center_account: 'gone', last_service: 'test' });
  });
});
