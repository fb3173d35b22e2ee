// Azure publish (Imagecast's, not mash's Partner Center): share_with shares the gallery with
// subscriptions and tenants, or as a community gallery, through the real SDK against the ARM
// fake; a community share the gallery cannot take is refused in create, before anything is made.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ComputeManagementClient } from '@azure/arm-compute';
import type { ApplicationFailure } from '@temporalio/common';
import { missingGroups, sharingGroups } from '../../../activities/azure/gallery-sharing.js';
import { trustCaPolicy } from '../../../activities/azure/trust-ca.js';
import type { CloudProvider, ReleaseRef } from '../../../activities/provider.js';
import type { AzureImageOptions } from '../../../schemas/release-plan.js';
import { AZURE_GALLERY_GROUP, AZURE_SUBSCRIPTION, type AzureEmulator } from '../../support/azure-emulator.js';
import {
  azureRelease,
  createTestImage,
  galleryOptions,
  startAzureProvider,
  uploadTestDisk,
} from '../../support/azure-provider-calls.js';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const SUB = 'aaaaaaaa-0000-4000-8000-00000000000a';
const TENANT = 'bbbbbbbb-0000-4000-8000-00000000000b';

const release = azureRelease;
const options = (gallery: string, community = false): AzureImageOptions =>
  galleryOptions({
    name: gallery,
    definitions: [{ name: `${gallery}_gen1`, plan: 'gen1', hyperVGeneration: 'V1' }],
    ...(community && { community: true }),
  });

describe('Azure share_with: sharing groups', () => {
  it('reads subscription: and tenant: targets as one group per type, lower-cased', () => {
    assert.deepEqual(
      sharingGroups([`subscription:${SUB.toUpperCase()}`, `tenant:${TENANT}`, `subscription:${TENANT}`]),
      [
        { type: 'Subscriptions', ids: [SUB, TENANT] },
        { type: 'AADTenants', ids: [TENANT] },
      ],
    );
    assert.deepEqual(sharingGroups([`tenant:${TENANT}`]), [{ type: 'AADTenants', ids: [TENANT] }]);
  });

  it('asks only for the ids the gallery does not share with yet', () => {
    const wanted = sharingGroups([`subscription:${SUB}`, `tenant:${TENANT}`]);
    assert.deepEqual(missingGroups(wanted, [{ type: 'subscriptions', ids: [SUB.toUpperCase()] }]), [
      { type: 'AADTenants', ids: [TENANT] },
    ]);
    assert.deepEqual(missingGroups(wanted, wanted), []);
    assert.deepEqual(missingGroups(wanted, undefined), wanted);
  });
});

describe('Azure publish shares the gallery (Azurite + ARM fake)', () => {
  let az: AzureEmulator;
  let cloud: CloudProvider;
  let compute: ComputeManagementClient;

  before(async () => {
    ({ az, cloud } = await startAzureProvider());
    compute = new ComputeManagementClient(
      { getToken: async () => ({ token: 'test', expiresOnTimestamp: Date.now() + 3_600_000 }) },
      AZURE_SUBSCRIPTION,
      {
        endpoint: az.arm.endpoint,
        credentialScopes: ['https://management.azure.com/.default'],
        additionalPolicies: [{ policy: trustCaPolicy(az.arm.caPem), position: 'perCall' }],
      },
    );
  });
  after(() => az?.stop());

  const release1 = async (r: ReleaseRef, name: string, o: AzureImageOptions) =>
    createTestImage(cloud, r, await uploadTestDisk(cloud, r, name, o, { mib: 1, fill: 3 }), name, o, [
      'bios',
    ]);

  const sharingOf = (gallery: string) =>
    (az.arm.state.galleries() as Json[]).find((g) => g.name === gallery)!.properties.sharingProfile as Json;
  const shareCalls = () => az.arm.state.requests('gallerySharingProfile.update').length;

  it('turns a private gallery into a direct shared one with the subscriptions and tenants, once', async () => {
    const o = options('sharedgallery');
    const r = release('tokshare1');
    const image = await release1(r, 'shared-v20261206', o);
    assert.equal(sharingOf('sharedgallery').permissions, 'Private');
    const shareWith = [`subscription:${SUB}`, `tenant:${TENANT}`];
    // The publish step calls once per region, in parallel: both ask the same.
    await Promise.all(
      ['westeurope', 'northeurope'].map((region) =>
        cloud.publishImage({
          release: r,
          image: { ...image, region },
          shareWith,
          allowCopy: false,
          options: o,
        }),
      ),
    );
    const profile = sharingOf('sharedgallery');
    assert.equal(profile.permissions, 'Groups');
    assert.deepEqual((profile.groups as Json[]).map((g) => [g.type, g.ids]).sort(), [
      ['AADTenants', [TENANT]],
      ['Subscriptions', [SUB]],
    ]);
    const calls = shareCalls();
    await cloud.publishImage({ release: r, image, shareWith, allowCopy: false, options: o });
    assert.equal(shareCalls(), calls, 'a retry asks nothing more');
    const before = az.arm.state.requests().length;
    await cloud.publishImage({ release: r, image, shareWith: 'none', allowCopy: false, options: o });
    assert.equal(az.arm.state.requests().length, before, '"none" calls nothing');
  });

  it('refuses share_with "all" in upload (and create) when the gallery is no community gallery, making nothing', async () => {
    const o = options('privategallery', true);
    await compute.galleries.beginCreateOrUpdateAndWait(AZURE_GALLERY_GROUP, 'privategallery', {
      location: 'westeurope',
    });
    const refused = await release1(release('tokcomm0'), 'priv-v20261206', o).then(
      () => assert.fail('accepted'),
      (e: unknown) => e as ApplicationFailure,
    );
    assert.equal(refused.type, 'CloudInvalidRequest');
    assert.match(
      refused.message,
      /^share_with "all" publishes gallery privategallery as a community gallery, but it has sharing permissions "Private": .*az sig update .*--permissions Community .*; nothing was uploaded$/,
    );
    assert.deepEqual(
      (az.arm.state.galleryImageVersions() as Json[]).filter((v) => String(v.id).includes('privategallery')),
      [],
    );
    assert.deepEqual(
      (await az.blobs()).filter((b) => b.startsWith('priv-')),
      [],
      'no blob either',
    );
    // Create checks again (the gallery may have changed since the upload).
    const disk = await uploadTestDisk(
      cloud,
      release('tokcomm0'),
      'priv-v20261206',
      options('privategallery'),
      { mib: 0 },
    );
    const inCreate = await createTestImage(cloud, release('tokcomm0'), disk, 'priv-v20261206', o, [
      'bios',
    ]).then(
      () => assert.fail('accepted'),
      (e: unknown) => e as ApplicationFailure,
    );
    assert.match(inCreate.message, /sharing permissions "Private": .*; no image was made$/);
    // A gallery that does not exist would be made private: refused the same way.
    const missing = await release1(release('tokcomm1'), 'none-v20261206', options('nogallery', true)).then(
      () => assert.fail('accepted'),
      (e: unknown) => e as ApplicationFailure,
    );
    assert.match(missing.message, /gallery nogallery as a community gallery, but it does not exist/);
  });

  it('enables a community gallery for share_with "all", once; and refuses groups there', async () => {
    await compute.galleries.beginCreateOrUpdateAndWait(AZURE_GALLERY_GROUP, 'commgallery', {
      location: 'westeurope',
      sharingProfile: {
        permissions: 'Community',
        communityGalleryInfo: {
          publisherUri: 'https://images.example.org',
          publisherContact: 'images@example.org',
          eula: 'https://images.example.org/eula',
          publicNamePrefix: 'imagecast',
        },
      },
    });
    const o = options('commgallery', true);
    const r = release('tokcomm2');
    const image = await release1(r, 'comm-v20261206', o);
    const calls = shareCalls();
    await cloud.publishImage({ release: r, image, shareWith: 'all', allowCopy: false, options: o });
    assert.equal(shareCalls(), calls + 1);
    assert.equal(sharingOf('commgallery').communityGalleryInfo.communityGalleryEnabled, true);
    await cloud.publishImage({ release: r, image, shareWith: 'all', allowCopy: false, options: o });
    assert.equal(shareCalls(), calls + 1, 'already enabled: nothing asked');

    const refused = await cloud
      .publishImage({ release: r, image, shareWith: [`subscription:${SUB}`], allowCopy: false, options: o })
      .then(
        () => assert.fail('accepted'),
        (e: unknown) => e as ApplicationFailure,
      );
    assert.match(
      refused.message,
      /gallery commgallery is a community gallery \(everyone may use it\): Azure shares a gallery with subscriptions and tenants only when its permissions are "Groups"/,
    );
  });
});
