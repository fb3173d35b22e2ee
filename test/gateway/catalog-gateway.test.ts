// The public catalog through the real gateway: no token, a real PostgreSQL catalog written
// as releases write it, plain HTTP on loopback.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
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
import { randomBytes, randomUUID } from 'node:crypto';
import { pathToFileURL } from 'node:url';
import { EndorserStore } from '../../activities/common/imagelist/endorser-store.js';
import { ImageListStore } from '../../activities/common/imagelist/list-store.js';
import { publishImageList } from '../../activities/common/imagelist/publish-list.js';
import { localPublisher } from '../../activities/common/imagelist/publish-target.js';
import { keyRingMasterKeys } from '../../secrets/envelope.js';
import { singleKeyRing } from '../../secrets/key-ring.js';
import { makeTestCa, opensslRun } from '../support/openssl-ca.js';

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

  it('shows the published signed lists that carry a file, and serves each at /imagelists/<uuid> with no token', async () => {
    const dir = tempDir('catalog-gateway-lists');
    const ca = makeTestCa(join(dir, 'ca'));
    const dn = '/C=DE/O=GermanGrid/OU=Imagecast/CN=Catalog Endorser/emailAddress=catalog@example.org';
    const endorser = ca.issue('endorser', dn);
    const master = keyRingMasterKeys(singleKeyRing(randomBytes(32).toString('base64'), 'IMAGECAST_MASTER_KEY'));
    const endorsers = new EndorserStore(pool, () => master, 'test');
    await endorsers.add({
      certificatePem: readFileSync(endorser.certPath, 'utf8'),
      keyPem: readFileSync(endorser.keyPath, 'utf8'),
    });
    const lists = new ImageListStore(pool, endorsers, 'test');
    const publicUri = 'https://lists.example.org/sles/image.list';
    const list = await lists.add({
      endorserDn: dn,
      metadata: { 'dc:title': 'SLES images', 'dc:description': '', 'dc:source': 'lists.example.org', 'hv:uri': publicUri },
    });
    await lists.addImage(list.identifier, {
      'dc:identifier': randomUUID(),
      'dc:title': DEMO.slesNew.imageName,
      'dc:description': 'SLES 15 SP6',
      'hv:uri': 'https://images.example.org/sles-15-sp6.raw.xz',
      'hv:size': 1024,
      // The catalog knows the file as sha512:<hex>; the list as its hex.
      'sl:checksum:sha512': DEMO.slesNew.checksum.replace(/^sha512:/, ''),
      'sl:arch': 'x86_64',
      'sl:os': 'Linux',
      'sl:osversion': '15.6',
      'sl:comments': '',
      'hv:hypervisor': 'kvm',
      'hv:version': '4.2',
    });
    const file = join(dir, 'www', 'image.list');
    const published = await publishImageList({
      lists,
      endorsers,
      identifier: list.identifier,
      now: new Date(),
      target: () => ({ uri: pathToFileURL(file).href, publisher: localPublisher }),
    });

    const body = (await (await fetch(`${gateway.url}/catalog.json?q=sles`)).json()) as {
      lines: Array<{ files: Array<{ checksum: string; signedLists: Array<Record<string, unknown>> }> }>;
    };
    const files = body.lines.flatMap((l) => l.files);
    assert.deepEqual(files.find((f) => f.checksum === DEMO.slesNew.checksum)!.signedLists, [
      {
        uuid: list.identifier,
        title: 'SLES images',
        endorser: dn,
        expiresAt: new Date(published.expires).toISOString(),
        url: `/imagelists/${list.identifier}`,
        publishedUri: publicUri,
      },
    ]);
    assert.deepEqual(
      files.find((f) => f.checksum === DEMO.slesOld.checksum)!.signedLists,
      [],
      'a file no list carries is in none',
    );
    const page = await (await fetch(`${gateway.url}/catalog?q=sles`)).text();
    assert.ok(page.includes(`<a href="/imagelists/${list.identifier}">SLES images</a> endorsed by ${dn}`));

    const served = await fetch(`${gateway.url}/imagelists/${list.identifier}`);
    assert.equal(served.status, 200);
    assert.equal(served.headers.get('content-type'), 'text/plain; charset=utf-8');
    const bytes = Buffer.from(await served.arrayBuffer());
    assert.ok(bytes.equals(readFileSync(file)), 'the list exactly as it was uploaded');
    const servedFile = join(dir, 'served.list');
    writeFileSync(servedFile, bytes);
    const content = JSON.parse(opensslRun(['smime', '-verify', '-in', servedFile, '-CAfile', ca.certPath]));
    assert.equal(content['hv:imagelist']['hv:version'], published.version);
    const missing = randomUUID();
    const notFound = await fetch(`${gateway.url}/imagelists/${missing}`);
    assert.equal(notFound.status, 404);
    assert.match(await notFound.text(), new RegExp(`no published image list ${missing}`));
    assert.equal((await fetch(`${gateway.url}/imagelists/not-a-uuid`)).status, 404);
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
