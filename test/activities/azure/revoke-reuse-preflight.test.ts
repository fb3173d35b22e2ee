// Azure's revoke (withdraw, restore), retry reuse (adoptReusable) and preflight, one call at a
// time against Azurite and the ARM fake with the real SDK clients.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { CloudProvider, ImageRef, ReleaseRef } from '../../../activities/provider.js';
import type { AzureImageOptions } from '../../../schemas/release-plan.js';
import { AZURE_CONTAINER, AZURE_RESOURCE_GROUP, type AzureEmulator } from '../../support/azure-emulator.js';
import {
  azureRelease as release,
  createTestImage,
  galleryOptions as galleryRelease,
  MANAGED_OPTIONS,
  startAzureProvider,
  uploadTestDisk,
} from '../../support/azure-provider-calls.js';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const SUB = 'aaaaaaaa-0000-4000-8000-00000000000a';
const CHECKSUM = { algorithm: 'sha256', hex: '0'.repeat(64) } as const; // what uploadTestDisk records

const galleryOptions = (gallery: string): AzureImageOptions => galleryRelease({ name: gallery });

describe('Azure revoke, retry reuse and preflight (Azurite + ARM fake)', () => {
  let az: AzureEmulator;
  let cloud: CloudProvider;
  before(async () => ({ az, cloud } = await startAzureProvider()));
  after(() => az?.stop());

  const make = async (r: ReleaseRef, name: string, o: AzureImageOptions) =>
    createTestImage(cloud, r, await uploadTestDisk(cloud, r, name, o, { mib: 1, fill: 5 }), name, o);
  const versionsNamed = (gallery: string, version: string) =>
    (az.arm.state.galleryImageVersions() as Json[]).filter(
      (v) => v.name === version && String(v.id).includes(`/galleries/${gallery}/`),
    );
  const sharingOf = (gallery: string) =>
    (az.arm.state.galleries() as Json[]).find((g) => g.name === gallery)!.properties.sharingProfile as Json;
  const share = (r: ReleaseRef, image: ImageRef, o: AzureImageOptions) =>
    cloud.publishImage({
      release: r,
      image,
      shareWith: [`subscription:${SUB}`],
      allowCopy: false,
      options: o,
    });

  it('withdraws a gallery version (every definition: out of latest, end of life now) and restores the one it replaced', async () => {
    const o = galleryOptions('revokegallery');
    const older = release('tokrevold');
    const newer = release('tokrevnew');
    const previous = await make(older, 'rev-v20261201', o);
    await share(older, previous, o);
    const revoked = await make(newer, 'rev-v20261204', o);
    await share(newer, revoked, o);
    const shareCalls = () => az.arm.state.requests('gallerySharingProfile.update').length;
    const sharesBefore = shareCalls();
    await cloud.deprecateImage({ release: newer, image: previous, replacement: revoked, options: o });

    const revoke = release('revoke-run');
    await cloud.withdrawImage!({ release: revoke, image: revoked, replacement: previous });
    const withdrawn = versionsNamed('revokegallery', '2026.12.04');
    assert.equal(withdrawn.length, 2, 'one per definition');
    for (const v of withdrawn) {
      assert.equal(v.properties.publishingProfile.excludeFromLatest, true);
      assert.ok(Date.parse(v.properties.publishingProfile.endOfLifeDate) <= Date.now());
    }
    assert.equal(
      (await cloud.findImageByName('azure-pub', 'westeurope', 'rev-v20261204', o))?.state,
      'deprecated',
    );
    // The gallery holds the restored release too: its sharing stays, or that one would go with it.
    assert.equal(sharingOf('revokegallery').permissions, 'Groups');
    assert.equal(shareCalls(), sharesBefore, 'no sharing call');

    const patches = () => az.arm.state.requests('galleryImageVersions.update').length;
    const before = patches();
    await cloud.withdrawImage!({ release: revoke, image: revoked, replacement: previous });
    assert.equal(patches(), before, 'a repeat changes nothing');

    await cloud.restoreImage!({ release: revoke, image: previous });
    const restored = versionsNamed('revokegallery', '2026.12.01');
    assert.equal(restored.length, 2);
    for (const v of restored) {
      assert.equal(v.properties.publishingProfile.excludeFromLatest, false);
      // Only a JSON null in the PATCH removes it (the fake merges as RFC 7396 says).
      assert.equal(v.properties.publishingProfile.endOfLifeDate, undefined, 'no end of life');
    }
    assert.equal(
      (await cloud.findImageByName('azure-pub', 'westeurope', 'rev-v20261201', o))?.state,
      'available',
    );
    const after = patches();
    await cloud.restoreImage!({ release: revoke, image: previous });
    assert.equal(patches(), after, 'a repeat changes nothing');

    // Gone is fine for a withdrawal; a restore of a gone image says it cannot.
    await cloud.deleteImage(newer, revoked);
    await cloud.withdrawImage!({ release: revoke, image: revoked });
    await cloud.deleteImage(older, previous);
    await assert.rejects(
      cloud.restoreImage!({ release: revoke, image: previous }),
      /is gone: it cannot be made current again/,
    );
  });

  it("unshares the gallery when the revoked release's versions are all it holds", async () => {
    const o = galleryOptions('onlygallery');
    const r = release('tokonly');
    const image = await make(r, 'only-v20261204', o);
    await share(r, image, o);
    assert.equal(sharingOf('onlygallery').permissions, 'Groups');
    await cloud.withdrawImage!({ release: release('revoke-only'), image });
    const sharing = sharingOf('onlygallery');
    assert.equal(sharing.permissions, 'Private');
    assert.deepEqual(sharing.groups, []);
  });

  it('tags a managed image (and its _uefi twin) deprecated, and takes the tags off again', async () => {
    const r = release('tokrevman');
    const image = await make(r, 'revman-v20261204', MANAGED_OPTIONS);
    const revoke = release('revoke-man');
    await cloud.withdrawImage!({ release: revoke, image });
    const tagsOf = (name: string) =>
      (az.arm.state.images() as Json[]).find((i) => i.name === name)!.tags as Json;
    for (const name of ['revman-v20261204', 'revman-v20261204_uefi']) {
      assert.equal(tagsOf(name).imagecastdeprecated, 'true');
      assert.equal(tagsOf(name).imagecastreplacement, undefined, 'nothing replaces it');
    }
    await cloud.restoreImage!({ release: revoke, image });
    for (const name of ['revman-v20261204', 'revman-v20261204_uefi']) {
      assert.equal(tagsOf(name).imagecastdeprecated, undefined);
      assert.equal(tagsOf(name).imagecastreleasetoken, 'tokrevman', 'its own tags stay');
    }
    assert.equal(
      (await cloud.findImageByName('azure-pub', 'westeurope', 'revman-v20261204', MANAGED_OPTIONS))?.state,
      'available',
    );
  });

  it("adopts an earlier run's blob and gallery versions as the retry's, so nothing is uploaded or made again", async () => {
    const o = galleryOptions('reusegallery');
    const name = 'reuse-v20261204';
    const earlier = release('tokreuse1');
    const disk = await uploadTestDisk(cloud, earlier, name, o, { mib: 1, fill: 5 });
    const image = await createTestImage(cloud, earlier, disk, name, o);
    // The earlier run was terminated here: nothing cleaned up. The retry:
    const retry = { ...release('tokreuse2'), releaseId: earlier.releaseId };
    const input = {
      release: retry,
      earlierTokens: ['tokreuse1'],
      imageName: name,
      checksum: CHECKSUM,
      regions: ['westeurope'],
      options: o,
    };
    const found = await cloud.adoptReusable!(input);
    assert.deepEqual(found.disk, { ...disk, bytesWritten: 0, reusedFrom: 'tokreuse1' });
    assert.deepEqual(found.images, [{ ...image, reusedFrom: 'tokreuse1' }]);
    for (const v of versionsNamed('reusegallery', '2026.12.04')) {
      assert.equal(v.tags.imagecastreleasetoken, 'tokreuse2');
      assert.equal(v.tags.imagecastreusedfrom, 'tokreuse1');
    }
    assert.deepEqual(await cloud.adoptReusable!(input), found, 'a repeat finds them adopted');

    // They are the retry's now: its upload finds its finished blob, its create its versions.
    const puts = az.arm.state.requests('galleryImageVersions.createOrUpdate').length;
    const writer = await cloud.openDiskWriter({
      release: retry,
      region: 'westeurope',
      checksum: CHECKSUM,
      resumeFromOffset: 0,
      imageName: name,
      options: o,
    });
    // A finished upload of this run: committed without a block written, as the earlier run made it.
    assert.deepEqual(await writer.commit(disk.sizeBytes, 0), disk);
    assert.deepEqual(await createTestImage(cloud, retry, disk, name, o), image);
    assert.equal(az.arm.state.requests('galleryImageVersions.createOrUpdate').length, puts, 'nothing made');
    await cloud.deleteDisk(retry, disk);
    assert.deepEqual(
      (await az.blobs()).filter((b) => b.startsWith('reuse-')),
      [],
      "the retry's cleanup owns the blob",
    );

    // Another build (checksum) or a run that is not an earlier one of this release: nothing adopted.
    const other = await cloud.adoptReusable!({
      ...input,
      release: release('tokreuse3'),
      earlierTokens: ['tokunknown'],
    });
    assert.deepEqual(other, { images: [] });
  });

  it('adopts managed images with their regional copies, and a blob only of the same build', async () => {
    const name = 'reuseman-v20261204';
    const earlier = release('tokreuseman1');
    const disk = await uploadTestDisk(cloud, earlier, name, MANAGED_OPTIONS, { mib: 1, fill: 9 });
    const image = await createTestImage(cloud, earlier, disk, name, MANAGED_OPTIONS);
    await cloud.replicateImage({
      release: earlier,
      source: image,
      targetRegion: 'northeurope',
      description: 'unit',
      options: MANAGED_OPTIONS,
    });
    const retry = release('tokreuseman2');
    const base = {
      release: retry,
      earlierTokens: ['tokreuseman1'],
      imageName: name,
      regions: ['westeurope'],
      options: MANAGED_OPTIONS,
    };
    const otherBuild = await cloud.adoptReusable!({
      ...base,
      checksum: { algorithm: 'sha256', hex: 'f'.repeat(64) },
    });
    assert.equal(otherBuild.disk, undefined, "another build's blob is not adopted");
    const found = await cloud.adoptReusable!({ ...base, checksum: CHECKSUM });
    assert.equal(found.disk?.diskId, disk.diskId);
    assert.deepEqual(found.images, [{ ...image, reusedFrom: 'tokreuseman1' }]);
    const tokens = (az.arm.state.images() as Json[])
      .filter((i) => String(i.name).startsWith(name))
      .map((i) => [i.name, i.tags.imagecastreleasetoken])
      .sort();
    assert.deepEqual(tokens, [
      [name, 'tokreuseman2'],
      [`${name}-northeurope`, 'tokreuseman2'],
      [`${name}_uefi`, 'tokreuseman2'],
      [`${name}_uefi-northeurope`, 'tokreuseman2'],
    ]);
    // The retry's replicate keeps the adopted copy.
    const puts = az.arm.state.requests('images.createOrUpdate').length;
    await cloud.replicateImage({
      release: retry,
      source: image,
      targetRegion: 'northeurope',
      description: 'unit',
      options: MANAGED_OPTIONS,
    });
    assert.equal(az.arm.state.requests('images.createOrUpdate').length, puts);
  });

  it('preflight: credentials and regions from one provider read, and the upload container named when missing', async () => {
    const input = (o: AzureImageOptions, regions = ['westeurope', 'northeurope']) => ({
      release: release('tokpre'),
      imageName: 'pre-v20261204',
      regions,
      shareWith: 'none' as const,
      options: o,
    });
    assert.deepEqual(await cloud.preflight!(input(MANAGED_OPTIONS)), []);
    assert.equal(az.arm.state.requests('providers.get').length, 1);

    const problems = await cloud.preflight!(
      input({ ...galleryOptions('pregallery'), container: 'no-such-container' }, [
        'westeurope',
        'moonbase1',
      ]),
    );
    assert.deepEqual(
      problems.map((p) => [p.check, p.region]),
      [
        ['region-enabled', 'moonbase1'],
        ['bucket', undefined],
      ],
    );
    assert.match(
      problems[0]!.message,
      /moonbase1 is not a region where Microsoft\.Compute\/galleries exists/,
    );
    assert.match(problems[1]!.message, /ContainerNotFound/);
    assert.match(problems[1]!.fix, /create container "no-such-container" in storage account imagecastsa/);
    assert.equal(AZURE_CONTAINER, 'images', 'the good container is another');

    az.arm.faults.add({
      operation: 'providers.get',
      kind: 'http',
      status: 403,
      code: 'AuthorizationFailed',
      times: 1,
    });
    const denied = await cloud.preflight!(input(MANAGED_OPTIONS));
    assert.deepEqual(
      denied.map((p) => p.check),
      ['credentials'],
    );
    assert.match(denied[0]!.message, /AuthorizationFailed/);
    assert.equal(AZURE_RESOURCE_GROUP, 'images-rg');
  });
});
