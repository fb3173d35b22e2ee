// The public catalog through the real gateway: no token, a real PostgreSQL catalog written
// as releases write it, plain HTTP on loopback.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type pg from 'pg';
import { ImageCatalog } from '../../activities/common/catalog/catalog.js';
import { migrate } from '../../infra/db/migrate.js';
import { createPool } from '../../infra/db/pool.js';
import { ImagecastClient } from '../../client/sdk/index.js';
import { startReleaseGateway, type ReleaseGateway } from '../../gateway/release-gateway.js';
import { freshDatabaseUrl, testTemporalAddress } from '../support/stack.js';
import { DEMO, seedDemoCatalog, seedImageId, seedRelease } from '../support/public-catalog-seed.js';

describe('the gateway serves the public catalog', () => {
  let pool: pg.Pool;
  let client: ImagecastClient;
  let gateway: ReleaseGateway;

  before(async () => {
    pool = createPool(await freshDatabaseUrl('catalog_gateway'));
    await migrate(pool);
    const catalog = new ImageCatalog(pool);
    await seedDemoCatalog(catalog);
    // A name a job could carry: the page must show it as text, never as markup.
    await seedRelease(catalog, {
      ...DEMO.leapArm,
      line: 'evil-<script>alert(1)</script>-v{date}',
      imageName: 'evil-"><img src=x onerror=alert(1)>',
      idPrefix: 'ami-evil',
    });
    client = await ImagecastClient.connect({ address: await testTemporalAddress() });
    gateway = await startReleaseGateway({ pool, client });
  });
  after(async () => {
    await gateway?.stop();
    await client?.close();
    await pool?.end();
  });

  it('answers /catalog.json without a token: public images only, with search, cache headers and revalidation', async () => {
    const response = await fetch(`${gateway.url}/catalog.json?q=sles&cloud=ec2`);
    assert.equal(response.status, 200);
    assert.equal(response.headers.get('content-type'), 'application/json');
    assert.equal(response.headers.get('cache-control'), 'public, max-age=60');
    const body = (await response.json()) as {
      query: unknown;
      clouds: string[];
      architectures: string[];
      lines: Array<{
        line: string;
        regions: Array<{ region: string; current: unknown[]; deprecated: Array<Record<string, unknown>> }>;
      }>;
    };
    assert.deepEqual(body.query, { q: 'sles', cloud: 'ec2' });
    assert.deepEqual(
      body.lines.map((l) => l.line),
      [DEMO.slesOld.line],
    );
    const [useast] = body.lines[0]!.regions.filter((r) => r.region === 'us-east-1');
    assert.equal(useast!.deprecated[0]!.state, 'deprecated');
    assert.deepEqual(useast!.deprecated[0]!.replacement, {
      imageId: seedImageId(DEMO.slesNew, 'us-east-1'),
      imageName: DEMO.slesNew.imageName,
    });
    assert.match(String(useast!.deprecated[0]!.deprecatedAt), /^\d{4}-\d\d-\d\dT/);

    const everything = await (await fetch(`${gateway.url}/catalog.json`)).text();
    for (const hidden of [DEMO.internal, DEMO.partner, DEMO.unreleased])
      assert.ok(!everything.includes(hidden.idPrefix));
    assert.ok(
      !everything.includes('"account"') && !everything.includes(DEMO.slesOld.account),
      'account names stay inside',
    );

    const etag = response.headers.get('etag');
    assert.ok(etag);
    const again = await fetch(`${gateway.url}/catalog.json?q=sles&cloud=ec2`, {
      headers: { 'if-none-match': etag },
    });
    assert.equal(again.status, 304);
  });

  it('serves /catalog as HTML with every value escaped and no script allowed, while release routes still want a token', async () => {
    const response = await fetch(`${gateway.url}/catalog`);
    assert.equal(response.status, 200);
    assert.equal(response.headers.get('content-type'), 'text/html; charset=utf-8');
    assert.match(response.headers.get('content-security-policy') ?? '', /default-src 'none'/);
    const html = await response.text();
    assert.ok(html.includes('evil-&lt;script&gt;alert(1)&lt;/script&gt;-v{date}'));
    assert.ok(html.includes('evil-&quot;&gt;&lt;img src=x onerror=alert(1)&gt;'));
    assert.ok(!/<script|<img/i.test(html), 'no markup from catalog values');
    assert.ok(html.includes(DEMO.slesNew.imageName));

    assert.equal((await fetch(`${gateway.url}/catalog`, { method: 'HEAD' })).status, 200);
    assert.equal((await fetch(`${gateway.url}/v1/releases/x`)).status, 401);
    assert.equal((await fetch(`${gateway.url}/catalog`, { method: 'POST' })).status, 404);
  });
});
