// A copy into a slow region (the local cloud's SLOW-COPY fault) outlasts an activity attempt:
// the wait heartbeats, and the retry adopts the copy still under way instead of starting another.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, readFile, readdir, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { MockActivityEnvironment } from '@temporalio/testing';
import type { LocalImage } from '../../../activities/local/index.js';
import type { ImageRef } from '../../../activities/provider.js';
import { createInput, freshLocalCloud, releaseRef, testDisk, uploadDisk } from './local-cloud-fixtures.js';

const COPY_SECONDS = 3;

async function imagesIn(dataDir: string, region: string): Promise<LocalImage[]> {
  const dir = join(dataDir, 'acct', region, 'images');
  const names = (await readdir(dir).catch(() => [] as string[])).filter((n) => n.endsWith('.json'));
  return Promise.all(names.map(async (n) => JSON.parse(await readFile(join(dir, n), 'utf8')) as LocalImage));
}

describe('a slow local copy', () => {
  it('is waited for with heartbeats, and the retry after a dead attempt adopts the copy under way instead of copying again', async () => {
    const { cloud, dataDir } = freshLocalCloud('slow-copy');
    const release = releaseRef();
    const source = await cloud.createImage(
      createInput(release, await uploadDisk(cloud, release, 'r1', testDisk(4, [0, 2])), 'slow-v1'),
    );
    await mkdir(join(dataDir, 'acct', 'r2'), { recursive: true });
    await writeFile(join(dataDir, 'acct', 'r2', 'SLOW-COPY'), String(COPY_SECONDS));
    const input = { release, source, targetRegion: 'r2', description: 'replica' };

    const first = new MockActivityEnvironment({ attempt: 1 });
    const beats: unknown[] = [];
    first.on('heartbeat', (details: unknown) => beats.push(details));
    const firstAttempt = first.run(() => cloud.replicateImage(input));
    let pending: LocalImage | undefined;
    while (!(pending = (await imagesIn(dataDir, 'r2')).find((i) => i.state === 'pending')))
      await new Promise((r) => setTimeout(r, 50));
    // The attempt waits on, heartbeating, until it dies (its timeout; here: cancelled).
    await new Promise((r) => setTimeout(r, 1500));
    first.cancel();
    await assert.rejects(firstAttempt);
    assert.ok(beats.length >= 1, 'the wait heartbeats');
    assert.match(JSON.stringify(beats.at(-1)), /"state":"pending","secondsLeft":\d/);
    const copiedDisk = await stat(join(dataDir, 'acct', 'r2', 'images', pending.diskFile));

    const second = new MockActivityEnvironment({ attempt: 2 });
    const copy: ImageRef = await second.run(() => cloud.replicateImage(input));
    const finishedAt = Date.now();
    const readyAt = Date.parse(pending.readyAt!);
    assert.equal(copy.imageId, pending.imageId);
    // Done when the first copy was due; a second copy would be due 1.5 s or more later.
    assert.ok(
      finishedAt >= readyAt && finishedAt < readyAt + 1200,
      `finished ${finishedAt - readyAt} ms after the first copy was due`,
    );
    assert.equal(
      (await stat(join(dataDir, 'acct', 'r2', 'images', pending.diskFile))).ino,
      copiedDisk.ino,
      'the disk was not copied again',
    );
    const images = await imagesIn(dataDir, 'r2');
    assert.deepEqual(
      images.map((i) => [i.imageId, i.state, i.readyAt]),
      [[copy.imageId, 'available', undefined]],
    );
    assert.deepEqual(
      (await readdir(join(dataDir, 'acct', 'r2', 'images'))).sort(),
      [pending.diskFile, `${copy.imageId}.json`].sort(),
    );
  });
});
