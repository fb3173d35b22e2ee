// Azure job documents as mash writes them (mash/services/api/v1/schema/jobs/azure.py and
// utils/jobs/azure.py @57099be4). Publishing to a Partner Center offer is not available yet:
// a document whose last_service includes publish is refused with that one extra issue.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { checkJobDocument, formatIssues, jobJsonSchemaObject, parseJob, type JobIssue } from '../../schemas/job/index.js';
import {
  AZURE_RESOURCE_GROUP_PATTERN,
  azureGalleryImageDefinition,
  azureGalleryImageVersion,
  azureImageNameProblem,
} from '../../schemas/job/azure-names.js';
import { azureCrossFieldIssues } from '../../schemas/job/azure-rules.js';
import { MASH_AZURE_DOCS } from '../support/azure-jobs.js';

const PARTNER_CENTER = /^publish runs \(.*\) and would add the image to the Partner Center offer draft \(offer_id, sku\), which Imagecast cannot do yet: set last_service to "replicate"/;
const isPartnerCenterIssue = (i: JobIssue) => i.path === '$.last_service' && PARTNER_CENTER.test(i.message);

/** The issues of a document beyond "Imagecast cannot publish to Partner Center yet" (the mash rules under test). */
function azureIssues(doc: Record<string, unknown>): JobIssue[] {
  const result = checkJobDocument(doc, 'azure');
  return result.ok ? [] : result.issues.filter((i) => !isPartnerCenterIssue(i));
}

const publishes = (doc: Record<string, unknown>) => ['publish', 'deprecate', undefined].includes(doc.last_service as string | undefined);

const byPath = (issues: JobIssue[]) => Object.fromEntries(issues.map((i) => [i.path, i.message]));
const base = MASH_AZURE_DOCS["the schema's examples, publishing from a gallery"]!;
const managed = MASH_AZURE_DOCS['the test data job (managed image, published by SAS URL)']!;

describe('Azure job documents', () => {
  for (const [name, doc] of Object.entries(MASH_AZURE_DOCS)) {
    it(`takes mash's ${name} unchanged${publishes(doc) ? ', refusing only its Partner Center publish' : ''}`, () => {
      const result = parseJob(doc, 'azure');
      if (!publishes(doc)) return assert.deepEqual(result.ok ? [] : result.issues, []);
      assert.equal(result.ok, false);
      const issues = result.ok ? [] : result.issues;
      assert.equal(issues.length, 1, formatIssues(issues));
      assert.ok(isPartnerCenterIssue(issues[0]!), issues[0]!.message);
      // The same document up to replicate is released.
      assert.equal(parseJob({ ...doc, last_service: 'replicate' }, 'azure').ok, true);
    });
  }

  it('says why publish is refused and what to do, naming last_service', () => {
    const { last_service: _l, ...byDefault } = base;
    const result = parseJob(byDefault, 'azure');
    assert.deepEqual(result.ok ? [] : result.issues, [
      {
        path: '$.last_service',
        message:
          'publish runs (last_service defaults to "deprecate", which includes it) and would add the image to the Partner Center offer draft (offer_id, sku), which Imagecast cannot do yet: set last_service to "replicate" (the image is made, tested and replicated, and stays private to the subscription), or "partner_center": false to publish by sharing the gallery (share_with) and deprecate earlier releases without Partner Center',
      },
    ]);
  });

  it('with "partner_center": false, publishes by sharing the gallery and deprecates, without Partner Center', () => {
    const sub = 'subscription:aaaaaaaa-0000-4000-8000-00000000000a';
    const tenant = 'tenant:bbbbbbbb-0000-4000-8000-00000000000b';
    const { publish_from_sig: _p, last_service: _l, partner_center_account: _a, ...gallery } = base;
    const ours: Record<string, unknown> = { ...gallery, partner_center: false };
    for (const share_with of ['all', 'none', [sub, tenant]]) assert.deepEqual(parseJob({ ...ours, share_with }, 'azure').ok, true, JSON.stringify(share_with));
    // Without a gallery nothing can be shared, and offer_id/sku are only a gallery's to need.
    const { gallery_name: _g, gallery_resource_group: _r, offer_id: _o, sku: _s, generation_id: _gen, ...managedOnly } = ours;
    assert.deepEqual(azureIssues(managedOnly), []);
    assert.deepEqual(azureIssues({ ...managedOnly, share_with: [sub] }), [
      { path: '$.share_with', message: 'needs gallery_name: Azure shares the images of a Compute Gallery; a managed image stays in its subscription' },
    ]);
    assert.deepEqual(byPath(azureIssues({ ...ours, share_with: [sub, sub.toUpperCase(), 'subscription:nope', 'everyone'] })), {
      '$.share_with[1]': `"${sub.toUpperCase()}" is listed twice`,
      '$.share_with[2]': 'subscription:<subscription id> or tenant:<tenant id>, each id a GUID; got string "subscription:nope"',
      '$.share_with[3]': 'subscription:<subscription id> or tenant:<tenant id>, each id a GUID; got string "everyone"',
    });
    assert.deepEqual(azureIssues({ ...ours, share_with: 'all', last_service: 'replicate' }), [
      { path: '$.share_with', message: 'is what publish shares, and publish does not run (last_service "replicate"): leave it out or let publish run' },
    ]);
    // The Partner Center fields would be silently ignored: refused by name.
    assert.deepEqual(azureIssues({ ...ours, publish_from_sig: true, partner_center_account: 'pc' }), [
      { path: '$.publish_from_sig', message: 'true publishes the gallery version to the Partner Center offer, but partner_center is false' },
      { path: '$.partner_center_account', message: 'names the account that publishes to Partner Center, but partner_center is false: leave it out' },
    ]);
  });

  it('takes security_type for a gallery with a generation 2 definition', () => {
    const { last_service: _l, ...gallery } = base;
    const doc: Record<string, unknown> = { ...gallery, last_service: 'replicate', generation_id: undefined };
    delete doc.generation_id;
    assert.deepEqual(azureIssues({ ...doc, boot_firmware: ['uefi'], security_type: 'ConfidentialVM' }), []);
    assert.deepEqual(azureIssues({ ...doc, boot_firmware: ['bios'], generation_id: 'gen2', security_type: 'TrustedLaunch' }), []);
    assert.deepEqual(azureIssues({ ...doc, boot_firmware: ['bios', 'uefi'], security_type: 'TrustedLaunch' }), [
      {
        path: '$.security_type',
        message: 'needs a generation 2 definition: set boot_firmware to ["uefi"] (the sku\'s definition becomes V2) or give generation_id (a V2 definition); Trusted Launch and confidential VMs boot UEFI only',
      },
    ]);
    const { gallery_name: _g, gallery_resource_group: _r, publish_from_sig: _p, ...managedOnly } = doc;
    assert.deepEqual(azureIssues({ ...managedOnly, boot_firmware: ['uefi'], security_type: 'TrustedLaunch' }), [
      { path: '$.security_type', message: 'needs gallery_name: it is a feature of the gallery image definition (managed images have none)' },
    ]);
    assert.match(byPath(azureIssues({ ...doc, boot_firmware: ['uefi'], security_type: 'Confidential' }))['$.security_type']!, /^expected one of "TrustedLaunchSupported", .*got string "Confidential" \(did you mean "ConfidentialVM"\?\)$/);
  });

  it('replicates to additional_regions with or without a gallery, each region once and not the home region', () => {
    const { gallery_name: _g, gallery_resource_group: _r, publish_from_sig: _p, ...noGallery } = base;
    assert.deepEqual(azureIssues({ ...noGallery, last_service: 'replicate', additional_regions: ['eastus'] }), []);
    // A managed image's copy is <name>-<region> (<name>_uefi-<region>): it must fit 80 characters.
    const name = `${'s'.repeat(56)}-v{date}`; // 66 filled in: _uefi-eastus makes 78, _uefi-germanywestcentral 90
    const long = azureIssues({ ...noGallery, cloud_image_name: name, boot_firmware: ['uefi'], last_service: 'replicate', additional_regions: ['eastus', 'germanywestcentral'] });
    assert.equal(long.length, 1);
    assert.equal(long[0]!.path, '$.additional_regions[1]');
    assert.match(long[0]!.message, /^the managed image copied to "germanywestcentral" is named "s+-v\d{8}_uefi-germanywestcentral" \(<name>-<region>.*\), 90 characters .*at most 80/);
    assert.deepEqual(azureIssues({ ...base, cloud_image_name: name, boot_firmware: ['uefi'], last_service: 'replicate', additional_regions: ['germanywestcentral'] }), [], 'a gallery version keeps its name');
    const issues = azureIssues({ ...base, last_service: 'replicate', additional_regions: ['eastus', 'westus', 'eastus', 'West US'] });
    assert.deepEqual(byPath(issues), {
      '$.additional_regions[1]': '"westus" is the home region (region) already',
      '$.additional_regions[2]': '"eastus" is listed twice',
      '$.additional_regions[3]': 'an Azure region name such as westeurope or eastus2; got string "West US"',
    });
  });

  it("refuses mash's removed fields, saying mash removed them and when", () => {
    const issues = byPath(
      azureIssues({ ...managed, destination_resource_group: 'rg-2', destination_container: 'container2', destination_storage_account: 'sa2', publish_offer: true }),
    );
    assert.deepEqual(Object.keys(issues).sort(), ['$.destination_container', '$.destination_resource_group', '$.destination_storage_account', '$.publish_offer']);
    for (const field of ['destination_container', 'destination_resource_group', 'destination_storage_account'])
      assert.match(issues[`$.${field}`]!, new RegExp(`^mash field "${field}" no longer exists: mash removed it in 2021 \\(commit fc1ed74e`));
    assert.match(issues['$.publish_offer']!, /^mash field "publish_offer" no longer exists: mash removed it in 2022 \(commit 5366aa39/);
    // An EC2 document carrying one hears the same, not "unknown field".
    const ec2 = parseJob({ cloud_account: 'a', image: 'x', download_url: 'https://a.example/b/', cloud_image_name: 'n-{date}', image_description: 'd', publish_offer: true }, 'ec2');
    assert.match(ec2.ok ? '' : ec2.issues[0]!.message, /^mash field "publish_offer" no longer exists/);
  });

  it('refuses each field that breaks its grammar, naming the path, what was expected and what was given', () => {
    const issues = byPath(
      azureIssues({
        ...base,
        source_storage_account: 'storage_account1',
        source_container: 'Images',
        source_resource_group: 'rg.',
        region: 'West US',
        gallery_name: 'my-gallery',
        publish_from_sig: 'yes',
        cloud_image_name: 'opensuse-leap-15-v{date}-',
        sku: '',
      }),
    );
    assert.match(issues['$.source_storage_account']!, /a storage account name: 3-24 lower-case letters and digits; got string "storage_account1"/);
    assert.match(issues['$.source_container']!, /a blob container name.*; got string "Images"/);
    assert.match(issues['$.source_resource_group']!, /not ending with "\."; got string "rg\."/);
    assert.match(issues['$.region']!, /an Azure region name such as westeurope.*; got string "West US"/);
    assert.match(issues['$.gallery_name']!, /a Compute Gallery name: 1-80 letters, digits and "\.".*; got string "my-gallery"/);
    assert.match(issues['$.publish_from_sig']!, /^expected a boolean.*got string "yes"/);
    assert.match(issues['$.cloud_image_name']!, /"opensuse-leap-15-v{date}-" \(as "opensuse-leap-15-v20261203-" with sample values for its placeholders\) is not an Azure image name/);
    assert.ok(issues['$.sku'], formatIssues(Object.entries(issues).map(([path, message]) => ({ path, message }))));
  });

  it("applies mash's rules: publish needs offer_id and sku, and sku differs from generation_id", () => {
    const { offer_id: _o, sku: _s, ...noOffer } = managed;
    assert.deepEqual(azureIssues(noOffer), [
      { path: '$.offer_id', message: 'required when publish runs (last_service "deprecate" includes it), as in mash; it is not given' },
      { path: '$.sku', message: 'required when publish runs (last_service "deprecate" includes it), as in mash; it is not given' },
    ]);
    assert.deepEqual(azureIssues({ ...managed, generation_id: '123' }), [
      { path: '$.generation_id', message: 'must differ from sku (it is a second plan), got the same "123"' },
    ]);
    // Up to test, nothing is published: neither is needed.
    assert.deepEqual(azureIssues({ ...noOffer, last_service: 'test' }), []);
  });

  it('publishes from the gallery only with gallery_name', () => {
    const { gallery_name: _g, gallery_resource_group: _r, ...noGallery } = base;
    assert.deepEqual(azureIssues(noGallery), [
      { path: '$.publish_from_sig', message: 'true needs gallery_name (it publishes the gallery image version), and gallery_name is not given' },
    ]);
    assert.deepEqual(azureIssues({ ...noGallery, publish_from_sig: false }), []);
  });

  it('checks what mash only crashes on with a gallery: a date in the name, and the definition names', () => {
    const createOnly: Record<string, unknown> = { ...base, last_service: 'create' };
    const { offer_id: _o, ...noOffer } = createOnly;
    assert.deepEqual(azureIssues(noOffer), [
      { path: '$.offer_id', message: 'required with gallery_name: the image version goes in the definition <offer_id>_<sku>; it is not given' },
    ]);
    assert.deepEqual(azureIssues({ ...createOnly, cloud_image_name: 'opensuse-leap-15-b{release}' }), [
      {
        path: '$.cloud_image_name',
        message: 'with gallery_name the image version is YYYY.MM.DD from the first 8-digit date in the name; "opensuse-leap-15-b{release}" (as "opensuse-leap-15-b1.42" with sample values for its placeholders) has none: add {date}',
      },
    ]);
    assert.match(byPath(azureIssues({ ...createOnly, cloud_image_name: 'leap-99999999-v{date}' }))['$.cloud_image_name']!, /starts with 8 digits that are no date/);
    assert.deepEqual(azureIssues({ ...createOnly, generation_id: 'gen2-' }), [
      {
        path: '$.generation_id',
        message: 'makes the gallery image definition "leap_gen2-" (offer_id with "-" as "_", "_", generation_id), which is not one: letters, digits, "_", "-" and ".", starting and ending with a letter or digit, at most 80 characters',
      },
    ]);
  });

  it("keeps mash's <name>_uefi managed image within Azure's 80 characters", () => {
    const name = `${'s'.repeat(68)}-v{date}`; // 78 characters filled in: the _uefi image would be 83
    assert.deepEqual(azureIssues({ ...managed, cloud_image_name: name }), []);
    const issues = azureIssues({ ...managed, cloud_image_name: name, boot_firmware: ['uefi'] });
    assert.equal(issues.length, 1, formatIssues(issues));
    assert.equal(issues[0]!.path, '$.cloud_image_name');
    assert.match(issues[0]!.message, /makes the managed image ".*_uefi" \(mash's _uefi suffix\), 83 characters .*at most 80/);
  });

  it('lists every rule break of one document at once, in document order', () => {
    const issues = azureIssues({ ...base, last_service: 'publish', sku: 'gen2', publish_offer: true, region: 'west us' });
    assert.deepEqual(issues.map((i) => i.path), ['$.region', '$.generation_id', '$.publish_offer']);
  });
});

describe('Azure names (Microsoft resource-name rules)', () => {
  it('makes managed image names of 1-80 characters that end with a letter, digit or "_"', () => {
    assert.equal(azureImageNameProblem('SLES_15.SP6-v{date}'), undefined);
    assert.equal(azureImageNameProblem('sles-15-v{date}_'), undefined);
    assert.match(azureImageNameProblem('sles-15-v{date}.')!, /not an Azure image name/);
    assert.match(azureImageNameProblem('-sles-v{date}')!, /starting with a letter or digit/);
    assert.match(azureImageNameProblem(`${'a'.repeat(72)}-v{date}`)!, /at most 80/);
    assert.match(azureImageNameProblem('sles 15 v{date}')!, /not an Azure image name/);
  });

  it('reads the gallery version from the first 8-digit date, as mash does', () => {
    assert.equal(azureGalleryImageVersion('sles-15-v20261203'), '2026.12.03');
    assert.equal(azureGalleryImageVersion('sles-20240229-v20261203'), '2024.02.29');
    assert.equal(azureGalleryImageVersion('sles-20230229'), undefined);
    assert.equal(azureGalleryImageVersion('sles-15-sp6'), undefined);
  });

  it("names definitions <offer_id>_<plan> with the offer's '-' made '_'", () => {
    assert.equal(azureGalleryImageDefinition('sles-15-sp6', 'gen2'), 'sles_15_sp6_gen2');
    assert.equal(azureGalleryImageDefinition('leap', 'gen-1'), 'leap_gen-1');
  });

  it('takes resource groups of Unicode letters and digits, "_-.()", not ending with "."', () => {
    for (const ok of ['rg-1', 'res_group1', 'Ressourcen(ä).1', 'x']) assert.match(ok, AZURE_RESOURCE_GROUP_PATTERN, ok);
    for (const bad of ['rg.', '', 'a b', 'a/b', 'x'.repeat(91)]) assert.doesNotMatch(bad, AZURE_RESOURCE_GROUP_PATTERN, bad);
  });
});

describe('Azure JSON Schema', () => {
  it("has mash's fields, no others, and names the removed ones", () => {
    const schema = jobJsonSchemaObject('azure');
    for (const field of Object.keys(base)) assert.ok(schema.properties?.[field], field);
    assert.equal(schema.additionalProperties, false);
    assert.deepEqual([...schema.required!].sort(), ['cloud_account', 'cloud_image_name', 'download_url', 'image', 'image_description']);
    assert.match(schema.description!, /publishing to a Partner Center offer draft \(mash's publish\) is not available yet/);
    assert.ok(schema.properties?.partner_center && schema.properties?.share_with);
    assert.match(schema.description!, /Fields mash removed, refused with when and why: destination_container, destination_resource_group, destination_storage_account, publish_offer\./);
  });
});

/** The optional Azure fields with values that keep a document valid, drawn in random subsets. */
const optionalFields = {
  partner_center_account: fc.stringMatching(/^[a-z][a-z0-9-]{0,20}$/),
  source_container: fc
    .array(fc.stringMatching(/^[a-z0-9]{1,8}$/), { minLength: 1, maxLength: 4 })
    .map((parts) => parts.join('-'))
    .filter((name) => name.length >= 3),
  source_resource_group: fc.stringMatching(/^[A-Za-z0-9_()-]{1,40}$/),
  source_storage_account: fc.stringMatching(/^[a-z0-9]{3,24}$/),
  region: fc.constantFrom('westeurope', 'eastus2', 'southcentralus', 'germanywestcentral'),
  gallery_name: fc.stringMatching(/^[A-Za-z0-9]([A-Za-z0-9.]{0,20}[A-Za-z0-9])?$/),
  gallery_resource_group: fc.stringMatching(/^[A-Za-z0-9_()-]{1,40}$/),
  publisher_id: fc.string({ minLength: 1, maxLength: 30 }),
  label: fc.string({ minLength: 1, maxLength: 30 }),
  vm_images_key: fc.string({ minLength: 1, maxLength: 30 }),
  cloud_image_name_generation_suffix: fc.string({ minLength: 1, maxLength: 10 }),
  force_replace_image: fc.boolean(),
  boot_firmware: fc.subarray(['bios', 'uefi', 'uefi-preferred'] as const),
};
const plan = fc.stringMatching(/^[a-z0-9]([a-z0-9-]{0,10}[a-z0-9])?$/);

/** A valid Azure document: the required fields, a random subset of the others, and what mash's rules then need. */
const validAzureDocument = fc
  .record(
    {
      image: fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9._-]{0,40}$/),
      download_url: fc.constant('https://download.example/images/'),
      cloud_image_name: fc.stringMatching(/^[a-z0-9][a-z0-9._-]{0,40}$/).map((name) => `${name}-v{date}`),
      image_description: fc.string({ minLength: 1, maxLength: 200 }),
      cloud_account: fc.stringMatching(/^[a-z][a-z0-9-]{0,20}$/),
      last_service: fc.constantFrom('upload', 'create', 'test_preparation', 'test', 'publish', 'deprecate'),
      ...optionalFields,
      publish_from_sig: fc.boolean(),
      offer_id: plan,
      sku: plan,
      generation_id: plan,
    },
    { requiredKeys: ['image', 'download_url', 'cloud_image_name', 'image_description', 'cloud_account'] },
  )
  .map((doc) => {
    const out: Record<string, unknown> = { ...doc };
    if (out.publish_from_sig === true && out.gallery_name === undefined) out.gallery_name = 'gallery';
    const publishes = out.last_service === undefined || out.last_service === 'publish' || out.last_service === 'deprecate';
    if (publishes || out.gallery_name !== undefined) {
      out.offer_id ??= 'offer';
      out.sku ??= 'plan';
    }
    if (out.generation_id !== undefined && out.generation_id === out.sku) out.generation_id = `${String(out.sku)}2`;
    return out;
  });

describe('Azure job validation, property-tested', () => {
  it('accepts every document made of a random subset of the fields that keeps to the rules', () => {
    fc.assert(
      fc.property(validAzureDocument, (doc) => {
        assert.deepEqual(azureIssues(doc), []);
        // Its Partner Center publish is refused (not available yet) and nothing else.
        assert.deepEqual(azureCrossFieldIssues(doc).filter((i) => i.path[0] !== 'last_service'), []);
        assert.equal(azureCrossFieldIssues(doc).length, publishes(doc) ? 1 : 0);
      }),
      { numRuns: 300 },
    );
  });

  it('reports a value of the wrong type at its field alone, saying what was expected and what was given', () => {
    const fields = ['source_container', 'region', 'gallery_name', 'offer_id', 'sku', 'publish_from_sig', 'force_replace_image', 'label'] as const;
    fc.assert(
      fc.property(validAzureDocument, fc.constantFrom(...fields), fc.oneof(fc.integer(), fc.constant(null), fc.array(fc.integer(), { maxLength: 2 })), (doc, field, value) => {
        const issues = azureIssues({ ...doc, [field]: value });
        const own = issues.filter((i) => i.path === `$.${field}`);
        assert.equal(own.length, 1, formatIssues(issues));
        assert.match(own[0]!.message, /^expected .*, got /);
      }),
      { numRuns: 300 },
    );
  });

  it('reports a removed mash field by name whatever else the document holds', () => {
    fc.assert(
      fc.property(validAzureDocument, fc.constantFrom('destination_container', 'destination_resource_group', 'destination_storage_account', 'publish_offer'), (doc, field) => {
        const issues = azureIssues({ ...doc, [field]: 'x' });
        assert.deepEqual(issues.map((i) => i.path), [`$.${field}`]);
        assert.match(issues[0]!.message, /no longer exists: mash removed it in 20(21|22)/);
      }),
      { numRuns: 100 },
    );
  });
});
