import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { readFile, readdir, writeFile } from 'node:fs/promises';
import { request } from 'node:http';
import { join } from 'node:path';
import { publishBuild, startBuildServer, type BuildServer } from '../../infra/devstack/build-service.js';
import { tempDir } from '../support/stack.js';

const root = tempDir('obs-root');
const disk = join(tempDir('obs-disk'), 'disk.raw');
const diskBytes = Buffer.concat([randomBytes(256 * 1024), Buffer.alloc(768 * 1024)]);
let server: BuildServer;

before(async () => {
  await writeFile(disk, diskBytes);
  server = await startBuildServer({ root });
});
after(() => server.stop());

const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex');

describe('local build service: publishing', () => {
  it('publishes an image, its checksum file and its kiwi packages manifest under OBS names', async () => {
    const dir = join(root, 'plain');
    const build = await publishBuild(dir, {
      image: 'SLES15-SP6-EC2',
      arch: 'x86_64',
      version: '15.6.0',
      release: '1.42',
      disk,
      packages: [
        { name: 'kernel-default', version: '6.4.0', release: '150600.23.1', license: 'GPL-2.0-only' },
        { name: 'bash', version: '5.2', release: '1', arch: 'noarch' },
      ],
    });
    assert.equal(build.fileName, 'SLES15-SP6-EC2.x86_64-15.6.0-Build1.42.raw');
    assert.deepEqual((await readdir(dir)).sort(), [
      'SLES15-SP6-EC2.x86_64-15.6.0-Build1.42.packages',
      'SLES15-SP6-EC2.x86_64-15.6.0-Build1.42.raw',
      'SLES15-SP6-EC2.x86_64-15.6.0-Build1.42.raw.sha256',
    ]);
    assert.ok((await readFile(join(dir, build.fileName))).equals(diskBytes));
    assert.equal(build.checksumHex, sha256(diskBytes));
    assert.equal(
      await readFile(join(dir, `${build.fileName}.sha256`), 'utf8'),
      `${sha256(diskBytes)}  ${build.fileName}\n`,
    );
    const manifest = (await readFile(join(dir, 'SLES15-SP6-EC2.x86_64-15.6.0-Build1.42.packages'), 'utf8'))
      .trim()
      .split('\n');
    assert.deepEqual(
      manifest.map((line) => line.split('|')),
      [
        [
          'kernel-default',
          '(none)',
          '6.4.0',
          '150600.23.1',
          'x86_64',
          'obs://build.example.org/images/kernel-default',
          'GPL-2.0-only',
        ],
        ['bash', '(none)', '5.2', '1', 'noarch', 'obs://build.example.org/images/bash', 'MIT'],
      ],
    );
  });

  for (const [compression, tool] of [
    ['xz', 'xz'],
    ['gz', 'gzip'],
  ] as const) {
    it(`compresses with the ${tool} tool, and checksums the compressed file as OBS does`, async () => {
      const dir = join(root, compression);
      const build = await publishBuild(dir, {
        image: 'img',
        arch: 'aarch64',
        version: '1.0',
        release: '7',
        disk,
        compression,
      });
      assert.equal(build.fileName, `img.aarch64-1.0-Build7.raw.${compression}`);
      const compressed = await readFile(join(dir, build.fileName));
      assert.ok(compressed.length < diskBytes.length / 2);
      assert.ok(execFileSync(tool, ['-dc', join(dir, build.fileName)]).equals(diskBytes));
      assert.equal(build.checksumHex, sha256(compressed));
    });
  }

  it('writes sha512, PGP clear-signed and deliberately wrong checksum files on request', async () => {
    const dir = join(root, 'variants');
    const a = await publishBuild(dir, {
      image: 'a',
      arch: 'x86_64',
      version: '1',
      release: '1',
      disk,
      checksum: 'sha512',
    });
    assert.equal(a.checksumHex, createHash('sha512').update(diskBytes).digest('hex'));
    assert.match(
      await readFile(join(dir, `${a.fileName}.sha512`), 'utf8'),
      new RegExp(`^${a.checksumHex}  ${a.fileName}\n$`),
    );

    const b = await publishBuild(dir, {
      image: 'b',
      arch: 'x86_64',
      version: '1',
      release: '1',
      disk,
      signChecksum: true,
    });
    const signed = await readFile(join(dir, `${b.fileName}.sha256`), 'utf8');
    assert.match(
      signed,
      new RegExp(
        `^-----BEGIN PGP SIGNED MESSAGE-----\nHash: SHA256\n\n${b.checksumHex}  ${b.fileName.replace(/\./g, '\\.')}\n-----BEGIN PGP SIGNATURE-----\n`,
      ),
    );

    const c = await publishBuild(dir, {
      image: 'c',
      arch: 'x86_64',
      version: '1',
      release: '1',
      disk,
      corruptChecksum: true,
    });
    assert.notEqual(c.checksumHex, sha256(diskBytes));
    assert.equal(c.checksumHex.length, 64);
  });
});

describe('local build service: serving', () => {
  it('lists a directory as an index page of links', async () => {
    await publishBuild(join(root, 'listed'), {
      image: 'img',
      arch: 'x86_64',
      version: '1.0',
      release: '1',
      disk,
    });
    const response = await fetch(`${server.url}listed/`);
    assert.equal(response.status, 200);
    assert.match(response.headers.get('content-type') ?? '', /text\/html/);
    const links = [...(await response.text()).matchAll(/<a href="([^"]+)">/g)].map((m) => m[1]);
    assert.deepEqual(links, [
      '../',
      'img.x86_64-1.0-Build1.packages',
      'img.x86_64-1.0-Build1.raw',
      'img.x86_64-1.0-Build1.raw.sha256',
    ]);
    const redirect = await fetch(`${server.url}listed`, { redirect: 'manual' });
    assert.equal(redirect.status, 301);
    assert.equal(redirect.headers.get('location'), '/listed/');
  });

  it('serves files whole with their length, or from an offset for a Range request', async () => {
    const url = `${server.url}plain/SLES15-SP6-EC2.x86_64-15.6.0-Build1.42.raw`;
    const whole = await fetch(url);
    assert.equal(whole.status, 200);
    assert.equal(whole.headers.get('content-length'), String(diskBytes.length));
    assert.equal(whole.headers.get('accept-ranges'), 'bytes');
    assert.ok(Buffer.from(await whole.arrayBuffer()).equals(diskBytes));

    const from = 100_000;
    const partial = await fetch(url, { headers: { Range: `bytes=${from}-` } });
    assert.equal(partial.status, 206);
    assert.equal(
      partial.headers.get('content-range'),
      `bytes ${from}-${diskBytes.length - 1}/${diskBytes.length}`,
    );
    assert.equal(partial.headers.get('content-length'), String(diskBytes.length - from));
    assert.ok(Buffer.from(await partial.arrayBuffer()).equals(diskBytes.subarray(from)));

    const beyond = await fetch(url, { headers: { Range: `bytes=${diskBytes.length}-` } });
    assert.equal(beyond.status, 416);
    assert.equal(beyond.headers.get('content-range'), `bytes */${diskBytes.length}`);

    const head = await fetch(url, { method: 'HEAD' });
    assert.equal(head.headers.get('content-length'), String(diskBytes.length));
    assert.equal((await fetch(`${server.url}plain/nothing.raw`)).status, 404);
  });

  it('records every request with its Range header', async () => {
    const seen = server.requests.length;
    await (await fetch(`${server.url}plain/`)).text();
    await (
      await fetch(`${server.url}xz/img.aarch64-1.0-Build7.raw.xz`, { headers: { Range: 'bytes=10-' } })
    ).arrayBuffer();
    assert.deepEqual(server.requests.slice(seen), [
      { path: '/plain/', range: undefined },
      { path: '/xz/img.aarch64-1.0-Build7.raw.xz', range: 'bytes=10-' },
    ]);
  });

  it('throttles bodies to the rate set, and can be let go mid-transfer', async () => {
    const url = `${server.url}plain/SLES15-SP6-EC2.x86_64-15.6.0-Build1.42.raw`;
    server.setThrottle(2 * 1024 * 1024);
    try {
      const started = performance.now();
      const body = Buffer.from(await (await fetch(url)).arrayBuffer());
      const seconds = (performance.now() - started) / 1000;
      assert.ok(body.equals(diskBytes));
      assert.ok(seconds >= 0.4, `1 MiB at 2 MiB/s took ${seconds.toFixed(2)} s`);

      server.setThrottle(64 * 1024);
      const slow = await fetch(url);
      const reader = slow.body!.getReader();
      let received = (await reader.read()).value?.length ?? 0;
      server.setThrottle(undefined);
      const t = performance.now();
      for (let chunk = await reader.read(); !chunk.done; chunk = await reader.read())
        received += chunk.value.length;
      assert.equal(received, diskBytes.length);
      assert.ok(performance.now() - t < 1000, 'the rest came at full speed');
    } finally {
      server.setThrottle(undefined);
    }
  });

  it('serves nothing outside its root', async () => {
    const port = new URL(server.url).port;
    const status = await new Promise<number | undefined>((resolve, reject) => {
      request({ host: '127.0.0.1', port, path: '/..%2f..%2f..%2fetc%2fpasswd' }, (res) => {
        res.resume();
        resolve(res.statusCode);
      })
        .on('error', reject)
        .end();
    });
    assert.equal(status, 403);
  });
});
