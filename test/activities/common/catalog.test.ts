import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import type pg from 'pg';
import { ImageCatalog, type NewCatalogImage } from '../../../activities/common/catalog/catalog.js';
import { migrate } from '../../../infra/db/migrate.js';
import { createPool } from '../../../infra/db/pool.js';
import { freshDatabaseUrl } from '../../support/stack.js';

let pool: pg.Pool;
let catalog: ImageCatalog;

before(async () => {
  pool = createPool(await freshDatabaseUrl('catalog'));
  await migrate(pool);
  catalog = new ImageCatalog(pool);
});
after(() => pool.end());

/** Each test works in its own account, so they share one database without seeing each other. */
function account(): string {
  return `acct-${randomBytes(3).toString('hex')}`;
}

/** Run tokens are unique across accounts, as real ones are. */
function token(acct: string, run: string): string {
  return `${acct}-token-${run}`;
}

/** A release's images: one per region, named and tokened like a real run. */
function release(
  acct: string,
  run: string,
  regions: string[],
  line = 'demo-v{date}-b{release}',
): NewCatalogImage[] {
  return regions.map((region) => ({
    cloud: 'local',
    account: acct,
    region,
    imageId: `img-${run}-${region}`,
    imageName: `demo-v${run}`,
    imageLine: line,
    releaseId: `release-${run}`,
    releaseToken: token(acct, run),
    checksum: `sha256:${run}`,
    sourceVersion: '1.0.0',
    sourceRelease: run,
  }));
}

async function record(images: NewCatalogImage[]): Promise<void> {
  for (const image of images) await catalog.recordImage(image);
}

describe('image catalog', () => {
  it('records a new image as pending, with every fact, and a repeat adds nothing', async () => {
    const acct = account();
    const [image] = release(acct, '1', ['r1']);
    await catalog.recordImage(image!);
    await catalog.recordImage({ ...image!, imageName: 'changed on a retry' });
    const rows = await catalog.listImages({ account: acct });
    assert.equal(rows.length, 1);
    const row = rows[0]!;
    assert.deepEqual(
      { ...row, createdAt: undefined },
      {
        ...image!,
        state: 'pending',
        createdAt: undefined,
        visibility: undefined,
        replacementImageId: undefined,
        replacementImageName: undefined,
        activatedAt: undefined,
        deprecatedAt: undefined,
        deletedAt: undefined,
      },
    );
    assert.ok(row.createdAt instanceof Date);
  });

  it('activates only its own release pending images, and only once', async () => {
    const acct = account();
    await record([...release(acct, '1', ['r1', 'r2']), ...release(acct, '2', ['r1'])]);
    assert.equal(await catalog.activateRelease(token(acct, '1'), 'public'), 2);
    assert.equal(await catalog.activateRelease(token(acct, '1'), 'public'), 0);
    const active = await catalog.listImages({ account: acct, state: 'active' });
    assert.deepEqual(
      active.map((i) => [i.imageId, i.visibility]),
      [
        ['img-1-r1', 'public'],
        ['img-1-r2', 'public'],
      ],
    );
    assert.ok(active.every((i) => i.activatedAt instanceof Date));
    assert.deepEqual(
      (await catalog.listImages({ account: acct, state: 'pending' })).map((i) => i.imageId),
      ['img-2-r1'],
    );
  });

  it('finds what a new release replaces: active images of its line made by other releases', async () => {
    const acct = account();
    await record(release(acct, 'old', ['r1', 'r2']));
    await catalog.activateRelease(token(acct, 'old'), 'public');
    await record(release(acct, 'other-line', ['r1'], 'other-v{date}'));
    await catalog.activateRelease(token(acct, 'other-line'), 'public');
    await record(release(acct, 'failed', ['r1'])); // never activated
    await record(release(acct, 'new', ['r1', 'r2']));
    await catalog.activateRelease(token(acct, 'new'), 'public');
    const elsewhere = account(); // same line, another account
    await record(release(elsewhere, 'elsewhere', ['r1']));
    await catalog.activateRelease(token(elsewhere, 'elsewhere'), 'public');

    const replaceable = await catalog.findReplaceable({
      cloud: 'local',
      account: acct,
      imageLine: 'demo-v{date}-b{release}',
      excludeReleaseToken: token(acct, 'new'),
    });
    assert.deepEqual(
      replaceable.map((i) => i.imageId),
      ['img-old-r1', 'img-old-r2'],
    );
  });

  it('marks a replaced image deprecated with its replacement, keeping the first time on a repeat', async () => {
    const acct = account();
    await record(release(acct, 'old', ['r1']));
    await catalog.activateRelease(token(acct, 'old'), 'public');
    const key = { cloud: 'local', account: acct, region: 'r1', imageId: 'img-old-r1' };
    const replacement = { replacementImageId: 'img-new-r1', replacementImageName: 'demo-vnew' };
    await catalog.markDeprecated({ ...key, ...replacement });
    const [first] = await catalog.listImages({ account: acct, state: 'deprecated' });
    assert.equal(first?.replacementImageId, 'img-new-r1');
    assert.equal(first?.replacementImageName, 'demo-vnew');
    assert.ok(first?.deprecatedAt instanceof Date);

    await catalog.markDeprecated({ ...key, ...replacement });
    const [again] = await catalog.listImages({ account: acct, state: 'deprecated' });
    assert.deepEqual(again, first);
    const line = {
      cloud: 'local',
      account: acct,
      imageLine: 'demo-v{date}-b{release}',
      excludeReleaseToken: token(acct, 'new'),
    };
    assert.deepEqual(await catalog.findReplaceable(line), [], 'a deprecated image is not replaced twice');
  });

  it('marks an image deleted once; a deleted image is not deprecated again', async () => {
    const acct = account();
    await record(release(acct, 'old', ['r1']));
    const key = { cloud: 'local', account: acct, region: 'r1', imageId: 'img-old-r1' };
    await catalog.markDeleted(key);
    const [first] = await catalog.listImages({ account: acct });
    assert.equal(first?.state, 'deleted');
    assert.ok(first?.deletedAt instanceof Date);
    await catalog.markDeleted(key);
    await catalog.markDeprecated({ ...key, replacementImageId: 'x', replacementImageName: 'y' });
    assert.deepEqual(await catalog.listImages({ account: acct }), [first]);
    await catalog.markDeleted({ ...key, imageId: 'never-recorded' }); // nothing to do, no failure
  });

  it('discards a failed run: its pending images become deleted, released images stay', async () => {
    const acct = account();
    await record(release(acct, 'done', ['r1']));
    await catalog.activateRelease(token(acct, 'done'), 'private');
    await record(release(acct, 'failed', ['r1', 'r2']));
    assert.equal(await catalog.discardRelease(token(acct, 'failed')), 2);
    assert.equal(await catalog.discardRelease(token(acct, 'failed')), 0);
    assert.equal(await catalog.discardRelease(token(acct, 'done')), 0);
    const states = (await catalog.listImages({ account: acct })).map((i) => [i.imageId, i.state]);
    assert.deepEqual(states, [
      ['img-done-r1', 'active'],
      ['img-failed-r1', 'deleted'],
      ['img-failed-r2', 'deleted'],
    ]);
  });

  it('finds images by name in every region, and lists by any combination of filters', async () => {
    const acct = account();
    await record(release(acct, 'a', ['r2', 'r1']));
    await record(release(acct, 'b', ['r1'], 'other-line'));
    await catalog.activateRelease(token(acct, 'b'), 'public');

    assert.deepEqual(
      (await catalog.findByName({ cloud: 'local', account: acct, imageName: 'demo-va' })).map(
        (i) => i.region,
      ),
      ['r1', 'r2'],
    );
    assert.deepEqual(await catalog.findByName({ cloud: 'local', account: acct, imageName: 'nothing' }), []);
    assert.deepEqual(await catalog.findByName({ cloud: 'gce', account: acct, imageName: 'demo-va' }), []);

    assert.equal((await catalog.listImages({ account: acct })).length, 3);
    assert.equal(
      (await catalog.listImages({ cloud: 'local', account: acct, imageLine: 'other-line' })).length,
      1,
    );
    assert.equal((await catalog.listImages({ account: acct, state: 'active' }))[0]?.imageId, 'img-b-r1');
    assert.deepEqual(await catalog.listImages({ cloud: 'ec2', account: acct }), []);
  });

  it('refuses a state the catalog does not know', async () => {
    const acct = account();
    await record(release(acct, '1', ['r1']));
    await assert.rejects(
      pool.query(`UPDATE catalog_images SET state = 'gone' WHERE account = $1`, [acct]),
      /check constraint/,
    );
  });
});
