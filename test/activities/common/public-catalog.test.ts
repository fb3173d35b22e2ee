import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type pg from 'pg';
import { ImageCatalog } from '../../../activities/common/catalog/catalog.js';
import {
  architectureInName,
  PublicCatalog,
  type PublicImageLine,
  type SignedListRef,
} from '../../../activities/common/catalog/public-catalog.js';
import { migrate } from '../../../infra/db/migrate.js';
import { createPool } from '../../../infra/db/pool.js';
import { freshDatabaseUrl } from '../../support/stack.js';
import {
  DEMO,
  seedDemoCatalog,
  seedImageId,
  seedRelease,
  seedReplacement,
} from '../../support/public-catalog-seed.js';

let pool: pg.Pool;
let catalog: ImageCatalog;
let publicCatalog: PublicCatalog;

before(async () => {
  pool = createPool(await freshDatabaseUrl('public_catalog'));
  await migrate(pool);
  catalog = new ImageCatalog(pool);
  publicCatalog = new PublicCatalog(pool);
  await seedDemoCatalog(catalog);
});
after(() => pool.end());

const lineNamed = (lines: PublicImageLine[], name: string) => lines.find((l) => l.line === name);

describe('public catalog', () => {
  it('lists only public, released images: never private, shared, pending or deleted ones', async () => {
    const { lines } = await publicCatalog.page();
    assert.deepEqual(
      lines.map((l) => l.line),
      [DEMO.leapArm.line, DEMO.slesOld.line, DEMO.slesGce.line],
    );
    const everyId = JSON.stringify(lines);
    for (const hidden of [DEMO.internal, DEMO.partner, DEMO.unreleased]) {
      assert.ok(!everyId.includes(hidden.idPrefix), `${hidden.imageName} is not public`);
      assert.ok(!everyId.includes(hidden.imageName));
    }

    // A deleted image leaves the catalog, even though it was public.
    const gone = {
      ...DEMO.leapArm,
      line: 'leap-micro-v{date}-x86_64',
      imageName: 'leap-micro-v1-x86_64',
      idPrefix: 'ami-gone',
    };
    await seedRelease(catalog, gone);
    assert.ok(lineNamed((await publicCatalog.page()).lines, gone.line));
    await catalog.markDeleted({
      cloud: gone.cloud,
      account: gone.account,
      region: 'us-east-1',
      imageId: seedImageId(gone, 'us-east-1'),
    });
    assert.equal(lineNamed((await publicCatalog.page()).lines, gone.line), undefined);
  });

  it('shows per cloud region the current image and the deprecated one with its replacement, and the files', async () => {
    const sles = lineNamed((await publicCatalog.page()).lines, DEMO.slesOld.line)!;
    assert.deepEqual(sles.clouds, ['ec2']);
    assert.equal(sles.architecture, 'x86_64');
    assert.deepEqual(
      sles.regions.map((r) => r.region),
      ['eu-central-1', 'us-east-1'],
    );
    for (const region of sles.regions) {
      assert.deepEqual(
        region.current.map((i) => [i.imageId, i.state]),
        [[seedImageId(DEMO.slesNew, region.region), 'active']],
      );
      const [old] = region.deprecated;
      assert.equal(region.deprecated.length, 1);
      assert.equal(old!.imageId, seedImageId(DEMO.slesOld, region.region));
      assert.equal(old!.state, 'deprecated');
      assert.ok(old!.deprecatedAt instanceof Date);
      assert.deepEqual(old!.replacement, {
        imageId: seedImageId(DEMO.slesNew, region.region),
        imageName: DEMO.slesNew.imageName,
      });
      assert.equal(region.current[0]!.replacement, undefined);
    }
    assert.deepEqual(
      sles.files.map((f) => [f.checksum, f.sourceRelease, f.imageNames, f.signedLists]),
      [
        [DEMO.slesNew.checksum, '4.2', [DEMO.slesNew.imageName], []],
        [DEMO.slesOld.checksum, '3.1', [DEMO.slesOld.imageName], []],
      ],
    );
  });

  it('names no replacement that is not public itself', async () => {
    const older = {
      ...DEMO.leapArm,
      line: 'tumbleweed-v{date}-x86_64',
      imageName: 'tumbleweed-v1-x86_64',
      idPrefix: 'ami-tw1',
    };
    const privateNewer = {
      ...older,
      imageName: 'tumbleweed-v2-x86_64',
      idPrefix: 'ami-tw2',
      visibility: 'private',
    };
    await seedRelease(catalog, older);
    await seedRelease(catalog, privateNewer);
    await seedReplacement(catalog, older, privateNewer);
    const line = lineNamed((await publicCatalog.page()).lines, older.line)!;
    assert.equal(line.regions[0]!.current.length, 0);
    assert.equal(line.regions[0]!.deprecated[0]!.replacement, undefined);
    assert.ok(!JSON.stringify(line).includes('ami-tw2'));
  });

  it('searches by words of the name (the OS), by cloud and by architecture, and offers the choices there are', async () => {
    const search = async (q: object) => (await publicCatalog.page(q)).lines.map((l) => l.line);
    assert.deepEqual(await search({ q: 'SLES sp6' }), [DEMO.slesOld.line, DEMO.slesGce.line]);
    assert.deepEqual(await search({ q: 'leap' }), [DEMO.leapArm.line]);
    assert.deepEqual(await search({ q: 'sles leap' }), []);
    assert.deepEqual(await search({ q: seedImageId(DEMO.slesNew, 'us-east-1') }), [DEMO.slesOld.line]);
    assert.deepEqual(await search({ q: 'sles', cloud: 'gce' }), [DEMO.slesGce.line]);
    assert.deepEqual(await search({ arch: 'aarch64' }), [DEMO.leapArm.line]);
    assert.deepEqual(await search({ arch: 'arm64' }), [DEMO.leapArm.line], 'arm64 is aarch64');
    assert.deepEqual(await search({ q: 'leap', arch: 'x86_64' }), []);
    const page = await publicCatalog.page({ cloud: 'gce' });
    assert.deepEqual(page.lines[0]!.clouds, ['gce']);
    assert.ok(page.lines.every((l) => l.regions.every((r) => r.cloud === 'gce')));
    assert.deepEqual(page.clouds, ['ec2', 'gce'], 'choices come from the whole public catalog');
    assert.deepEqual(page.architectures, ['aarch64', 'x86_64']);
  });

  it('reads the architecture only where a name states it', () => {
    assert.equal(architectureInName('sles-15-sp6-v{date}-hvm-ssd-x86_64'), 'x86_64');
    assert.equal(architectureInName('openSUSE-Leap-15.6.aarch64-1.0'), 'aarch64');
    assert.equal(architectureInName('debian-12-AMD64'), 'x86_64');
    assert.equal(architectureInName('sles-15-sp6-v{date}'), undefined);
    assert.equal(architectureInName('mx86_64y'), undefined);
  });

  it('asks the signed-lists provider about the files it shows and lists what it answers', async () => {
    const asked: string[][] = [];
    const list: SignedListRef = {
      uuid: '7d1c4ccc-3d6f-4a9e-9f0e-0e4a1d7c6b11',
      title: 'SUSE public images',
      endorser: '/C=DE/O=SUSE/CN=Image Endorser',
      expiresAt: new Date('2027-01-01T00:00:00Z'),
      url: '/imagelists/7d1c4ccc-3d6f-4a9e-9f0e-0e4a1d7c6b11',
    };
    const withLists = new PublicCatalog(pool, async (checksums) => {
      asked.push(checksums);
      return new Map([[DEMO.slesNew.checksum, [list]]]);
    });
    const { lines } = await withLists.page({ q: 'sles', cloud: 'gce' });
    assert.deepEqual(asked, [[DEMO.slesGce.checksum]]);
    assert.deepEqual(lines[0]!.files[0]!.signedLists, [list]);
  });
});
