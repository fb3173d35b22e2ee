import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { diskIdFor, imageIdFor } from '../../../activities/local/index.js';
import {
  MiB,
  checksumOf,
  createInput,
  filesUnder,
  freshLocalCloud,
  releaseRef,
  testDisk,
  uploadDisk,
} from './local-cloud-fixtures.js';

describe('local cleanup', () => {
  it('discards every artifact of a failed run, half-made ones included, and nothing of other runs', async () => {
    const { cloud, dataDir } = freshLocalCloud('discard');
    const bytes = testDisk(2, [0]);
    const failed = releaseRef();
    const other = releaseRef();

    // The other run: a finished image in r1 and r2, and an upload in progress in r1.
    const otherImage = await cloud.createImage(
      createInput(other, await uploadDisk(cloud, other, 'r1', bytes), 'demo-v1'),
    );
    await cloud.replicateImage({
      release: other,
      source: otherImage,
      targetRegion: 'r2',
      description: 'replica',
    });
    const otherUpload = await cloud.openDiskWriter({
      release: { ...other, releaseToken: `${other.releaseToken}-b` },
      region: 'r1',
      checksum: checksumOf(bytes),
      resumeFromOffset: 0,
    });
    await otherUpload.writeBlock(0, bytes.subarray(0, MiB));
    const before = await filesUnder(dataDir);

    // The failed run: an image in r1 replicated to r2, an upload that never committed in r3,
    // and a copy to r4 that crashed before its rename.
    const image = await cloud.createImage(
      createInput(failed, await uploadDisk(cloud, failed, 'r1', bytes), 'demo-v2'),
    );
    await cloud.replicateImage({
      release: failed,
      source: image,
      targetRegion: 'r2',
      description: 'replica',
    });
    const upload = await cloud.openDiskWriter({
      release: failed,
      region: 'r3',
      checksum: checksumOf(bytes),
      resumeFromOffset: 0,
    });
    await upload.writeBlock(0, bytes.subarray(0, MiB));
    await mkdir(join(dataDir, 'acct', 'r4', 'images'), { recursive: true });
    const r4 = join(dataDir, 'acct', 'r4', 'images', imageIdFor(failed.releaseToken, 'r4'));
    await writeFile(`${r4}.raw.tmp`, 'half a copy');
    await writeFile(`${r4}.json.0123abcd.tmp`, '{"half": "a metadata file"}');

    const regions = ['r1', 'r2', 'r3', 'r4', 'r5'];
    await cloud.discardReleaseArtifacts(failed, regions);
    await cloud.discardReleaseArtifacts(failed, regions); // a repeat finds nothing to do

    assert.deepEqual(await filesUnder(dataDir), before, 'exactly the other run files are left');
    const marks = [diskIdFor(failed.releaseToken), ...regions.map((r) => imageIdFor(failed.releaseToken, r))];
    for (const file of await filesUnder(dataDir)) {
      assert.ok(!marks.some((m) => file.includes(m)), file);
      if (file.endsWith('.json'))
        assert.ok(!(await readFile(join(dataDir, file), 'utf8')).includes(failed.releaseToken), file);
    }
    assert.equal((await cloud.findImageByName('acct', 'r2', 'demo-v1'))?.releaseToken, other.releaseToken);
    assert.equal(await cloud.findImageByName('acct', 'r2', 'demo-v2'), undefined);
  });
});
