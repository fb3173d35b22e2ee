import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { ApplicationFailure } from '@temporalio/common';
import type { LocalImage } from '../../../activities/local/index.js';
import {
  allocatedBytes,
  createInput,
  freshLocalCloud,
  releaseRef,
  testDisk,
  uploadDisk,
} from './local-cloud-fixtures.js';

async function imageJson(dataDir: string, region: string, imageId: string): Promise<LocalImage> {
  return JSON.parse(
    await readFile(join(dataDir, 'acct', region, 'images', `${imageId}.json`), 'utf8'),
  ) as LocalImage;
}

describe('local images', () => {
  it('creates an image from the uploaded disk, once, and keeps it when the disk is deleted', async () => {
    const { cloud, dataDir } = freshLocalCloud('create');
    const release = releaseRef();
    const bytes = testDisk(4, [0, 2]);
    const disk = await uploadDisk(cloud, release, 'r1', bytes);

    const image = await cloud.createImage(createInput(release, disk, 'demo-v1'));
    assert.match(image.imageId, /^img-[0-9a-f]{12}$/);
    assert.deepEqual(image, { region: 'r1', imageId: image.imageId, imageName: 'demo-v1' });
    const meta = await imageJson(dataDir, 'r1', image.imageId);
    assert.deepEqual(
      { ...meta, createdAt: undefined },
      {
        imageId: image.imageId,
        imageName: 'demo-v1',
        description: 'a test image',
        architecture: 'x86_64',
        bootFirmware: ['uefi'],
        diskFile: `${image.imageId}.raw`,
        releaseToken: release.releaseToken,
        state: 'available',
        visibility: 'private',
        sharedWith: [],
        allowCopy: false,
        checksum: `sha256:${disk.checksum.hex}`,
        sourceVersion: '1.0.0',
        sourceRelease: '7',
        createdAt: undefined,
      },
    );

    assert.deepEqual(
      await cloud.createImage(createInput(release, disk, 'demo-v1')),
      image,
      'a retry finds the first image',
    );
    assert.equal((await imageJson(dataDir, 'r1', image.imageId)).createdAt, meta.createdAt);

    await cloud.deleteDisk(release, disk);
    await cloud.deleteDisk(release, disk); // already gone: fine
    assert.deepEqual(await readdir(join(dataDir, 'acct', 'r1', 'disks')), []);
    assert.ok((await readFile(join(dataDir, 'acct', 'r1', 'images', meta.diskFile))).equals(bytes));
  });

  it('refuses a name another release already uses in that region, naming the image', async () => {
    const { cloud } = freshLocalCloud('create-clash');
    const first = releaseRef();
    const second = releaseRef();
    const bytes = testDisk(1, [0]);
    const existing = await cloud.createImage(
      createInput(first, await uploadDisk(cloud, first, 'r1', bytes), 'demo-v1'),
    );

    const disk = await uploadDisk(cloud, second, 'r1', bytes);
    await assert.rejects(cloud.createImage(createInput(second, disk, 'demo-v1')), (error: unknown) => {
      assert.ok(error instanceof ApplicationFailure);
      assert.equal(error.type, 'ImageAlreadyExists');
      assert.equal(error.nonRetryable, true);
      assert.ok(error.message.includes(existing.imageId), error.message);
      return true;
    });
    const elsewhere = await uploadDisk(cloud, second, 'r2', bytes);
    assert.equal(
      (await cloud.createImage(createInput(second, elsewhere, 'demo-v1'))).region,
      'r2',
      'names are per region',
    );
  });

  it('replicates to several regions at once: distinct ids, identical sparse disks, once', async () => {
    const { cloud, dataDir } = freshLocalCloud('replicate');
    const release = releaseRef();
    const bytes = testDisk(16, [1, 8]);
    const source = await cloud.createImage(
      createInput(release, await uploadDisk(cloud, release, 'r1', bytes), 'demo-v1'),
    );
    const targets = ['r2', 'r3', 'r4'];
    const replicate = () =>
      Promise.all(
        targets.map((targetRegion) =>
          cloud.replicateImage({ release, source, targetRegion, description: 'replica' }),
        ),
      );

    const replicas = await replicate();
    assert.deepEqual(
      replicas.map((r) => r.region),
      targets,
    );
    assert.equal(new Set([source.imageId, ...replicas.map((r) => r.imageId)]).size, 4);
    for (const replica of replicas) {
      assert.equal(replica.imageName, 'demo-v1');
      const meta = await imageJson(dataDir, replica.region, replica.imageId);
      assert.deepEqual(meta.replicatedFrom, { region: 'r1', imageId: source.imageId });
      assert.equal(meta.description, 'replica');
      assert.equal(meta.releaseToken, release.releaseToken);
      const raw = join(dataDir, 'acct', replica.region, 'images', meta.diskFile);
      assert.ok((await readFile(raw)).equals(bytes));
      assert.ok((await allocatedBytes(raw)) < bytes.length / 2, 'the copy keeps the holes');
      assert.deepEqual(
        (await readdir(join(dataDir, 'acct', replica.region, 'images'))).sort(),
        [meta.diskFile, `${replica.imageId}.json`].sort(),
      );
    }
    assert.deepEqual(await replicate(), replicas, 'a retry finds the replicas');
  });

  it('publishes to everyone, to named accounts, or to nobody', async () => {
    const { cloud, dataDir } = freshLocalCloud('publish');
    const release = releaseRef();
    const image = await cloud.createImage(
      createInput(release, await uploadDisk(cloud, release, 'r1', testDisk(1, [0])), 'demo-v1'),
    );
    const visibility = async () => {
      const { visibility, sharedWith, allowCopy } = await imageJson(dataDir, 'r1', image.imageId);
      return { visibility, sharedWith, allowCopy };
    };

    await cloud.publishImage({ release, image, shareWith: 'all', allowCopy: true });
    await cloud.publishImage({ release, image, shareWith: 'all', allowCopy: true });
    assert.deepEqual(await visibility(), { visibility: 'public', sharedWith: [], allowCopy: true });
    await cloud.publishImage({ release, image, shareWith: ['team-b', 'team-a', 'team-b'], allowCopy: false });
    assert.deepEqual(await visibility(), {
      visibility: 'shared',
      sharedWith: ['team-a', 'team-b'],
      allowCopy: false,
    });
    await cloud.publishImage({ release, image, shareWith: 'none', allowCopy: false });
    assert.deepEqual(await visibility(), { visibility: 'private', sharedWith: [], allowCopy: false });
    assert.equal((await cloud.findImageByName('acct', 'r1', 'demo-v1'))?.visibility, 'private');
  });

  it('deprecates the old image in favour of its replacement, once, and finds it by name', async () => {
    const { cloud, dataDir } = freshLocalCloud('deprecate');
    const oldRelease = releaseRef();
    const newRelease = releaseRef();
    const bytes = testDisk(1, [0]);
    const old = await cloud.createImage(
      createInput(oldRelease, await uploadDisk(cloud, oldRelease, 'r1', bytes), 'demo-v1'),
    );
    const replacement = await cloud.createImage(
      createInput(newRelease, await uploadDisk(cloud, newRelease, 'r1', bytes), 'demo-v2'),
    );

    await cloud.deprecateImage({ release: newRelease, image: old, replacement });
    const first = await imageJson(dataDir, 'r1', old.imageId);
    assert.equal(first.state, 'deprecated');
    assert.deepEqual(first.replacement, { imageId: replacement.imageId, imageName: 'demo-v2' });
    assert.ok(!Number.isNaN(Date.parse(first.deprecatedAt ?? '')));
    await cloud.deprecateImage({ release: newRelease, image: old, replacement });
    assert.deepEqual(await imageJson(dataDir, 'r1', old.imageId), first);

    assert.deepEqual(await cloud.findImageByName('acct', 'r1', 'demo-v1'), {
      ...old,
      state: 'deprecated',
      visibility: 'private',
      releaseToken: oldRelease.releaseToken,
    });
    assert.equal((await cloud.findImageByName('acct', 'r1', 'demo-v2'))?.state, 'available');
    assert.equal(await cloud.findImageByName('acct', 'r1', 'demo-v3'), undefined);
    assert.equal(await cloud.findImageByName('acct', 'r9', 'demo-v1'), undefined, 'a region never used');
  });

  it('deletes an image, metadata and disk, and a repeat finds nothing to do', async () => {
    const { cloud, dataDir } = freshLocalCloud('delete');
    const release = releaseRef();
    const image = await cloud.createImage(
      createInput(release, await uploadDisk(cloud, release, 'r1', testDisk(1, [0])), 'demo-v1'),
    );
    await cloud.deleteImage(release, image);
    await cloud.deleteImage(release, image);
    assert.deepEqual(await readdir(join(dataDir, 'acct', 'r1', 'images')), []);
    assert.equal(await cloud.findImageByName('acct', 'r1', 'demo-v1'), undefined);
    await assert.rejects(
      cloud.deleteImage(release, { ...image, imageId: '../../x' }),
      /invalid local image id/,
    );
  });
});
