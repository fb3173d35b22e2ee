// The Azure provider's calls one by one against Azurite and the ARM fake (real SDK clients over
// HTTPS): what each sends, that a retry finds what the first call made, and that deprecate,
// delete and the saga's discard reach every part of a release's image.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { ApplicationFailure } from '@temporalio/common';
import type { CloudProvider, ImageRef, ReleaseRef, UploadedDisk } from '../../../activities/provider.js';
import type { AzureImageOptions } from '../../../schemas/release-plan.js';
import type { AzureEmulator } from '../../support/azure-emulator.js';
import {
  azureRelease,
  createTestImage,
  galleryOptions as galleryRelease,
  MANAGED_OPTIONS,
  startAzureProvider,
  uploadTestDisk,
} from '../../support/azure-provider-calls.js';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const release = azureRelease;
const managedOptions = MANAGED_OPTIONS;
const galleryOptions: AzureImageOptions = galleryRelease({
  name: 'unitgallery',
  definitions: [
    { name: 'unit_gen1', plan: 'gen1', hyperVGeneration: 'V1' },
    { name: 'unit_gen2', plan: 'gen2', hyperVGeneration: 'V2' },
  ],
  offer: 'unit',
  replicaRegions: ['northeurope'],
});

describe('Azure provider (Azurite + ARM fake)', () => {
  let az: AzureEmulator;
  let cloud: CloudProvider;
  before(async () => ({ az, cloud } = await startAzureProvider()));
  after(() => az?.stop());

  const upload = (r: ReleaseRef, imageName: string, options: AzureImageOptions) => uploadTestDisk(cloud, r, imageName, options);
  const create = (r: ReleaseRef, disk: UploadedDisk, imageName: string, options: AzureImageOptions) =>
    createTestImage(cloud, r, disk, imageName, options);

  it('launches the test VM from the image with the ephemeral key in its own resource group, and deletes the group', async () => {
    const r = release('tokvm1');
    const disk = await upload(r, 'unit-vm-v20261204', managedOptions);
    const image = await create(r, disk, 'unit-vm-v20261204', managedOptions);
    const key = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIImagecastUnitTestKeyOnly imagecast';
    const instance = await cloud.launchTestInstance!({
      release: r,
      image,
      publicKey: key,
      options: managedOptions,
    });
    assert.match(instance.unreachable ?? '', /no operating system/);
    assert.ok(instance.host, 'the public IP is known');
    const [vm] = az.arm.state.virtualMachines() as Json[];
    assert.equal(vm!.properties.storageProfile.imageReference.id, image.imageId);
    assert.equal(vm!.properties.hardwareProfile.vmSize, 'Standard_D2s_v5');
    assert.deepEqual(vm!.properties.osProfile.linuxConfiguration.ssh.publicKeys, [
      { path: '/home/azureuser/.ssh/authorized_keys', keyData: key },
    ]);
    assert.equal(vm!.properties.osProfile.linuxConfiguration.disablePasswordAuthentication, true);
    const [nsg] = az.arm.state.networkSecurityGroups() as Json[];
    assert.equal(nsg!.properties.securityRules[0].properties.destinationPortRange, '22');
    const group = String(vm!.id).split('/')[4]!;
    assert.match(group, /^imagecast-test-tokvm1-1$/);
    assert.equal(await cloud.testInstanceGone!(r, instance), undefined);
    await cloud.rebootTestInstance!(r, instance);
    assert.equal(az.arm.state.requests('virtualMachines.restart').length, 1);
    await cloud.terminateTestInstance!(r, instance);
    assert.ok(!az.arm.state.resourceGroups().some((g) => g.name === group), 'the group is gone');
    assert.deepEqual(az.arm.state.virtualMachines(), []);
    // One left behind (a crashed attempt) is found by its tag and removed by the saga's discard.
    await cloud.launchTestInstance!({ release: r, image, publicKey: key, options: managedOptions });
    await cloud.discardReleaseArtifacts(r, ['westeurope'], managedOptions);
    assert.deepEqual(
      az.arm.state.resourceGroups().filter((g) => String(g.name).startsWith('imagecast-test-')),
      [],
    );
    assert.deepEqual(
      az.arm.state.images().filter((i) => String(i.name).startsWith('unit-vm')),
      [],
      'the discard took the images of the run too',
    );
    assert.deepEqual(
      (await az.blobs()).filter((b) => b.startsWith('unit-vm')),
      [],
      'and its blob',
    );
  });

  it("keeps a gallery version on retry, refuses another release's, deprecates and deletes every definition's", async () => {
    const r = release('tokgal1');
    const name = 'unit-gal-v20261204';
    const disk = await upload(r, name, galleryOptions);
    const image = await create(r, disk, name, galleryOptions);
    assert.match(image.imageId, /\/galleries\/unitgallery\/images\/unit_gen1\/versions\/2026\.12\.04$/);
    const puts = () => az.arm.state.requests('galleryImageVersions.createOrUpdate').length;
    const before = puts();
    assert.deepEqual(await create(r, disk, name, galleryOptions), image, 'a retry finds it');
    assert.equal(puts(), before, 'and makes nothing');
    const refused = await create(release('tokother'), disk, name, galleryOptions).then(
      () => assert.fail('accepted'),
      (e: unknown) => e as ApplicationFailure,
    );
    assert.equal(refused.type, 'ImageAlreadyExists');
    assert.match(
      refused.message,
      /gallery image version unitgallery\/unit_gen1\/2026\.12\.04 already exists and was not made by this release: remove it, or set force_replace_image/,
    );
    assert.equal(
      (await cloud.findImageByName('azure-pub', 'westeurope', name, galleryOptions))?.state,
      'available',
    );
    assert.equal(
      await cloud.findImageByName('azure-pub', 'northeurope', name, galleryOptions),
      undefined,
      'not replicated there yet',
    );
    // Another image of the same day would be version 2026.12.04 too: found, under the name it was made for.
    assert.equal((await cloud.findImageByName('azure-pub', 'westeurope', 'other-v20261204', galleryOptions))?.imageName, name);

    const copy = await cloud.replicateImage({
      release: r,
      source: image,
      targetRegion: 'northeurope',
      description: 'unit',
      options: galleryOptions,
    });
    assert.deepEqual(copy, { ...image, region: 'northeurope' });
    assert.equal(
      (await cloud.findImageByName('azure-pub', 'northeurope', name, galleryOptions))?.state,
      'available',
    );

    const replacement: ImageRef = {
      region: 'westeurope',
      imageId: image.imageId.replace('2026.12.04', '2026.12.05'),
      imageName: 'unit-gal-v20261205',
    };
    await cloud.deprecateImage({ release: release('toknext'), image, replacement, options: galleryOptions });
    const versions = (az.arm.state.galleryImageVersions() as Json[]).filter(
      (v) => v.name === '2026.12.04' && String(v.id).includes('unitgallery'),
    );
    assert.equal(versions.length, 2, 'one per definition');
    for (const v of versions) {
      assert.equal(v.properties.publishingProfile.excludeFromLatest, true);
      assert.ok(Date.parse(v.properties.publishingProfile.endOfLifeDate) <= Date.now());
    }
    assert.equal(
      (await cloud.findImageByName('azure-pub', 'westeurope', name, galleryOptions))?.state,
      'deprecated',
    );

    await cloud.deleteImage(r, image);
    assert.deepEqual(
      (az.arm.state.galleryImageVersions() as Json[]).filter((v) => String(v.id).includes('unitgallery')),
      [],
    );
    await cloud.deleteImage(r, image); // already gone: fine
    await cloud.deleteDisk(r, disk);
    assert.deepEqual(
      (await az.blobs()).filter((b) => b.startsWith('unit-gal')),
      [],
    );
  });

  it('tags a replaced managed image (and its _uefi twin) deprecated with its replacement, and deletes both', async () => {
    const r = release('tokman1');
    const name = 'unit-man-v20261204';
    const disk = await upload(r, name, managedOptions);
    const image = await create(r, disk, name, managedOptions);
    const replacement: ImageRef = {
      region: 'westeurope',
      imageId: image.imageId.replace(name, 'unit-man-v20261205'),
      imageName: 'unit-man-v20261205',
    };
    await cloud.deprecateImage({ release: release('toknext2'), image, replacement, options: managedOptions });
    const made = (az.arm.state.images() as Json[]).filter((i) => String(i.name).startsWith(name));
    assert.equal(made.length, 2);
    for (const i of made)
      assert.deepEqual(
        [i.tags.imagecastdeprecated, i.tags.imagecastreplacement],
        ['true', replacement.imageId],
      );
    assert.equal(
      (await cloud.findImageByName('azure-pub', 'westeurope', name, managedOptions))?.state,
      'deprecated',
    );
    await cloud.deleteImage(r, image);
    assert.deepEqual(
      (az.arm.state.images() as Json[]).filter((i) => String(i.name).startsWith(name)),
      [],
    );
  });
});
