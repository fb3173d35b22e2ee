// The public catalog through the real gateway: no token, a real PostgreSQL catalog written
// as releases write it, plain HTTP on loopback.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { request } from 'node:https';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import type pg from 'pg';
import { ImageCatalog } from '../../activities/common/catalog/catalog.js';
import { migrate } from '../../infra/db/migrate.js';
import { createPool } from '../../infra/db/pool.js';
import { ImagecastClient } from '../../client/sdk/index.js';
import { startReleaseGateway, type ReleaseGateway } from '../../gateway/release-gateway.js';
import { freshDatabaseUrl, tempDir, testTemporalAddress } from '../support/stack.js';
import { DEMO, seedDemoCatalog, seedImageId, seedRelease } from '../support/public-catalog-seed.js';

const gatewayBin = fileURLToPath(new URL('../../gateway/main.js', import.meta.url));

describe('the gateway serves the public catalog', () => {
  let databaseUrl: string;
  let pool: pg.Pool;
  let client: ImagecastClient;
  let gateway: ReleaseGateway;

  before(async () => {
    databaseUrl = await freshDatabaseUrl('catalog_gateway');
    pool = createPool(databaseUrl);
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

  it('is served by the gateway binary over its own HTTPS listener', async () => {
    const dir = tempDir('catalog-gateway-tls');
    const [certFile, keyFile] = [join(dir, 'gateway.crt'), join(dir, 'gateway.key')];
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'rsa:2048',
        '-nodes',
        '-days',
        '1',
        '-keyout',
        keyFile,
        '-out',
        certFile,
        '-subj',
        '/CN=127.0.0.1',
        '-addext',
        'subjectAltName=IP:127.0.0.1',
      ],
      { stdio: 'ignore' },
    );
    const child = spawn(
      process.execPath,
      [gatewayBin, '--port', '0', '--tls-cert', certFile, '--tls-key', keyFile],
      {
        env: {
          ...process.env,
          IMAGECAST_DATABASE_URL: databaseUrl,
          IMAGECAST_TEMPORAL_ADDRESS: await testTemporalAddress(),
        },
        stdio: ['ignore', 'pipe', 'inherit'],
      },
    );
    try {
      const url = await new Promise<string>((resolve, reject) => {
        child.once('exit', (code) => reject(new Error(`gateway exited with ${code}`)));
        createInterface({ input: child.stdout! }).once('line', resolve);
      });
      assert.match(url, /^https:/);
      const answer = await new Promise<{ status: number; body: string }>((resolve, reject) => {
        request(`${url}/catalog.json?arch=aarch64`, { ca: readFileSync(certFile) }, (res) => {
          let body = '';
          res.on('data', (d: Buffer) => (body += d));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
        })
          .on('error', reject)
          .end();
      });
      assert.equal(answer.status, 200);
      const { lines } = JSON.parse(answer.body) as { lines: Array<{ line: string }> };
      assert.deepEqual(
        lines.map((l) => l.line),
        [DEMO.leapArm.line],
      );
    } finally {
      child.kill('SIGTERM');
    }
  });
});
