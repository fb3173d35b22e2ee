// Replicate for Azure managed images against Azurite and the ARM fake (real SDK clients over
// HTTPS): the copy through a home disk and incremental snapshot, a CopyStart snapshot per
// region, the images named `<name>-<region>` there; a retry, a failed region, and that
// deleteDisk and the saga's discard leave nothing of the copy behind.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { ApplicationFailure } from '@temporalio/common';
import type { CloudProvider, ImageRef, ReleaseRef, UploadedDisk } from '../../../activities/provider.js';
import type { AzureEmulator } from '../../support/azure-emulator.js';
import {
  azureRelease,
  createTestImage,
  MANAGED_OPTIONS,
  startAzureProvider,
  uploadTestDisk,
} from '../../support/azure-provider-calls.js';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const release = azureRelease;
const options = MANAGED_OPTIONS;

describe('Azure managed image replicate (Azurite + ARM fake)', () => {
  let az: AzureEmulator;
  let cloud: CloudProvider;
  before(async () => ({ az, cloud } = await startAzureProvider()));
  after(() => az?.stop());

  async function release1(r: ReleaseRef, imageName: string): Promise<{ disk: UploadedDisk; image: ImageRef }> {
    const disk = await uploadTestDisk(cloud, r, imageName, options);
    return { disk, image: await createTestImage(cloud, r, disk, imageName, options) };
  }
  const replicate = (r: ReleaseRef, source: ImageRef, targetRegion: string) =>
    cloud.replicateImage({ release: r, source, targetRegion, description: 'unit', options });
  const imagesOf = (prefix: string) =>
    (az.arm.state.images() as Json[])
      .filter((i) => String(i.name).startsWith(prefix))
      .map((i) => [i.name, i.location, i.properties.hyperVGeneration, i.tags.imagecastreleasetoken])
      .sort();
  const ofToken = (list: Json[], token: string) =>
    list.filter((x) => x.tags?.imagecastreleasetoken === token);

  it('copies the images to two regions as <name>-<region>, finds, deprecates and keeps them on retry; deleteDisk removes the copy source', async () => {
    const r = release('tokcopy1');
    const name = 'unit-copy-v20261204';
    const { disk, image } = await release1(r, name);
    const [ne, us] = await Promise.all([replicate(r, image, 'northeurope'), replicate(r, image, 'eastus')]);
    assert.match(ne.imageId, /\/images\/unit-copy-v20261204-northeurope$/);
    assert.deepEqual([ne.region, ne.imageName, us.region], ['northeurope', name, 'eastus']);
    assert.deepEqual(imagesOf(name), [
      [name, 'westeurope', 'V1', 'tokcopy1'],
      [`${name}-eastus`, 'eastus', 'V1', 'tokcopy1'],
      [`${name}-northeurope`, 'northeurope', 'V1', 'tokcopy1'],
      [`${name}_uefi`, 'westeurope', 'V2', 'tokcopy1'],
      [`${name}_uefi-eastus`, 'eastus', 'V2', 'tokcopy1'],
      [`${name}_uefi-northeurope`, 'northeurope', 'V2', 'tokcopy1'],
    ]);
    const copied = (az.arm.state.images() as Json[]).find((i) => i.name === `${name}-northeurope`)!;
    assert.match(
      copied.properties.storageProfile.osDisk.snapshot.id,
      /\/snapshots\/ic-tokcopy1-northeurope$/,
    );
    // The home disk was imported from the blob, the snapshot copied from it; the regional copies are gone.
    const [homeDisk] = ofToken(az.arm.state.disks() as Json[], 'tokcopy1');
    assert.equal(homeDisk?.properties.creationData.sourceUri, disk.diskId);
    assert.deepEqual(
      ofToken(az.arm.state.snapshots() as Json[], 'tokcopy1').map((s) => [
        s.name,
        s.location,
        s.properties.incremental,
      ]),
      [['ic-tokcopy1', 'westeurope', true]],
    );
    assert.equal(az.arm.state.requests('disks.createOrUpdate').length >= 1, true);

    const puts = () => az.arm.state.requests('images.createOrUpdate').length;
    const before = puts();
    assert.deepEqual(await replicate(r, image, 'northeurope'), ne, 'a retry finds the copy');
    assert.equal(puts(), before, 'and makes nothing');

    const found = await cloud.findImageByName('azure-pub', 'northeurope', name, options);
    assert.deepEqual([found?.imageId, found?.imageName, found?.state], [ne.imageId, name, 'available']);
    assert.equal(await cloud.findImageByName('azure-pub', 'southindia', name, options), undefined);

    const replacement: ImageRef = {
      ...ne,
      imageId: ne.imageId.replace('20261204', '20261205'),
      imageName: 'unit-copy-v20261205',
    };
    await cloud.deprecateImage({ release: release('toknext'), image: ne, replacement, options });
    const tagged = (az.arm.state.images() as Json[])
      .filter((i) => i.tags.imagecastdeprecated === 'true')
      .map((i) => i.name);
    assert.deepEqual(tagged.sort(), [`${name}-northeurope`, `${name}_uefi-northeurope`], 'that region only');

    await cloud.deleteDisk(r, disk);
    assert.deepEqual(ofToken(az.arm.state.disks() as Json[], 'tokcopy1'), []);
    assert.deepEqual(ofToken(az.arm.state.snapshots() as Json[], 'tokcopy1'), []);
    assert.deepEqual(
      (await az.blobs()).filter((b) => b.startsWith(name)),
      [],
    );

    await cloud.deleteImage(r, us);
    assert.deepEqual(
      imagesOf(name).map((i) => i[0]),
      [name, `${name}-northeurope`, `${name}_uefi`, `${name}_uefi-northeurope`],
      "deleting a region's copy leaves the others",
    );
  });

  it('a failed copy fails its region only (naming it); the saga discards every image, disk and snapshot of the run', async () => {
    const r = release('tokcopy2');
    const name = 'unit-copyfail-v20261204';
    const { image } = await release1(r, name);
    az.arm.faults.add({
      kind: 'replication-failed',
      operation: 'snapshots.createOrUpdate',
      region: 'eastus',
      message: 'the source snapshot could not be read',
    });
    const [ne, us] = await Promise.allSettled([
      replicate(r, image, 'northeurope'),
      replicate(r, image, 'eastus'),
    ]);
    assert.equal(ne.status, 'fulfilled');
    assert.equal(us.status, 'rejected');
    const failure = (us as PromiseRejectedResult).reason as ApplicationFailure;
    assert.equal(failure.type, 'CloudInvalidRequest');
    assert.equal(failure.nonRetryable, true);
    assert.match(
      failure.message,
      /to eastus failed: CopySourceNotFound: the source snapshot could not be read/,
    );
    assert.deepEqual(
      ofToken(az.arm.state.snapshots() as Json[], 'tokcopy2')
        .map((s) => s.name)
        .sort(),
      ['ic-tokcopy2', 'ic-tokcopy2-eastus'],
    );

    await cloud.discardReleaseArtifacts(r, ['westeurope', 'northeurope', 'eastus'], options);
    assert.deepEqual(imagesOf(name), []);
    assert.deepEqual(ofToken(az.arm.state.disks() as Json[], 'tokcopy2'), []);
    assert.deepEqual(ofToken(az.arm.state.snapshots() as Json[], 'tokcopy2'), []);
    assert.deepEqual(
      (await az.blobs()).filter((b) => b.startsWith(name)),
      [],
    );
  });

  it('a retry after a failed image create waits on the copy already made instead of copying again', async () => {
    const r = release('tokcopy4');
    const name = 'unit-copyretry-v20261204';
    const { image } = await release1(r, name);
    az.arm.faults.add({
      kind: 'operation-failed',
      operation: 'images.createOrUpdate',
      location: 'northeurope',
      code: 'InternalOperationError',
    });
    const first = await replicate(r, image, 'northeurope').then(
      () => assert.fail('accepted'),
      (e: unknown) => e as Error,
    );
    assert.match(first.message, /InternalOperationError/);
    assert.equal(
      ofToken(az.arm.state.snapshots() as Json[], 'tokcopy4').length,
      2,
      'the copy is kept for the retry',
    );
    const copies = () => az.arm.state.requests('snapshots.createOrUpdate').length;
    const before = copies();
    const copy = await replicate(r, image, 'northeurope');
    assert.match(copy.imageId, /\/images\/unit-copyretry-v20261204-northeurope$/);
    assert.equal(copies(), before, 'no second copy');
    assert.deepEqual(
      ofToken(az.arm.state.snapshots() as Json[], 'tokcopy4').map((s) => s.name),
      ['ic-tokcopy4'],
    );
  });

  it("refuses a region's copy name held by another release's image", async () => {
    const mine = await release1(release('tokcopy3'), 'unit-clash-v20261204');
    const theirs = await release1(release('tokother3'), 'unit-clash-v20261204-northeurope');
    const refused = await replicate(release('tokcopy3'), mine.image, 'northeurope').then(
      () => assert.fail('accepted'),
      (e: unknown) => e as ApplicationFailure,
    );
    assert.equal(refused.type, 'ImageAlreadyExists');
    assert.match(
      refused.message,
      /"unit-clash-v20261204-northeurope" already exists in resource group images-rg/,
    );
    assert.ok(theirs.image.imageId);
  });
});
