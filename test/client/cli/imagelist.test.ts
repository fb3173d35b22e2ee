import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from '../../support/cli-process.js';
import { makeTestCa, opensslRun, type IssuedCert, type TestCa } from '../../support/openssl-ca.js';

const dir = mkdtempSync(join(tmpdir(), 'imagecast-cli-imagelist-'));
let ca: TestCa;
let endorser: IssuedCert;
let server: Server;
let baseUrl: string;

before(async () => {
  ca = makeTestCa(join(dir, 'ca'));
  endorser = ca.issue(
    'endorser',
    '/C=DE/O=GermanGrid/OU=Imagecast/CN=Imagecast Test Endorser/emailAddress=endorser@example.org',
  );
  server = createServer((req, res) => {
    try {
      res.end(readFileSync(join(dir, req.url!.slice(1))));
    } catch {
      res.statusCode = 404;
      res.end();
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
after(async () => {
  await new Promise((resolve) => server.close(resolve));
  rmSync(dir, { recursive: true, force: true });
});

const cli = (args: string[], input?: string) => runCli(args, process.env, input);

describe('imagecast imagelist', () => {
  it('template, sign and verify: a list people can publish, exit 0', async () => {
    const template = await cli([
      'imagelist',
      'template',
      '--cert',
      endorser.certPath,
      '--title',
      'Imagecast images',
      '--uri',
      'https://images.example.org/image.list',
    ]);
    assert.equal(template.status, 0, template.stderr);
    const list = JSON.parse(template.stdout)['hv:imagelist'];
    assert.equal(
      list['hv:endorser']['hv:x509']['hv:dn'],
      '/C=DE/O=GermanGrid/OU=Imagecast/CN=Imagecast Test Endorser/emailAddress=endorser@example.org',
    );
    assert.equal(list['hv:endorser']['hv:x509']['hv:email'], 'endorser@example.org');
    assert.equal(list['hv:endorser']['hv:x509']['dc:creator'], 'Imagecast Test Endorser');
    writeFileSync(join(dir, 'list.json'), template.stdout);

    const signed = await cli([
      'imagelist',
      'sign',
      join(dir, 'list.json'),
      '--cert',
      endorser.certPath,
      '--key',
      endorser.keyPath,
      '--out',
      join(dir, 'image.list'),
    ]);
    assert.equal(signed.status, 0, signed.stderr);
    assert.match(
      signed.stdout,
      /^signed Imagecast images \(version 0\.0\.1, expires \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ\) to /,
    );
    opensslRun([
      'smime',
      '-verify',
      '-in',
      join(dir, 'image.list'),
      '-CAfile',
      ca.certPath,
      '-out',
      join(dir, 'content.json'),
    ]);

    const verified = await cli([
      'imagelist',
      'verify',
      join(dir, 'image.list'),
      '--ca',
      ca.certPath,
      '--crl',
      ca.crl(),
      '--identifier',
      list['dc:identifier'],
    ]);
    assert.equal(verified.status, 0, verified.stdout + verified.stderr);
    assert.match(
      verified.stdout,
      /^valid: Imagecast images \(.*\) version 0\.0\.1, 0 image\(s\), signed by \/C=DE\/O=GermanGrid\/OU=Imagecast\/CN=Imagecast Test Endorser/,
    );

    const fromUrl = await cli([
      'imagelist',
      'verify',
      `${baseUrl}/image.list`,
      '--ca',
      ca.certPath,
      '--json',
    ]);
    assert.equal(fromUrl.status, 0, fromUrl.stdout + fromUrl.stderr);
    assert.deepEqual(JSON.parse(fromUrl.stdout).problems, []);
    assert.deepEqual(JSON.parse(fromUrl.stdout).warnings, [
      `hv:uri is https://images.example.org/image.list, not ${baseUrl}/image.list where the list was fetched: subscribers fetch the next version from hv:uri`,
    ]);
  });

  it('signs to stdout by default, from stdin too', async () => {
    const signed = await cli(
      ['imagelist', 'sign', '-', '--cert', endorser.certPath, '--key', endorser.keyPath],
      readFileSync(join(dir, 'list.json'), 'utf8'),
    );
    assert.equal(signed.status, 0, signed.stderr);
    assert.match(signed.stdout, /^MIME-Version: 1\.0\r?\nContent-Type: multipart\/signed;/);
  });

  it('verify: exit 1 with one problem a line (stdout), or JSON with --json', async () => {
    const tampered = readFileSync(join(dir, 'image.list'), 'utf8').replace('"0.0.1"', '"0.0.2"');
    writeFileSync(join(dir, 'tampered.list'), tampered);
    const text = await cli([
      'imagelist',
      'verify',
      join(dir, 'tampered.list'),
      '--ca',
      ca.certPath,
      '--previous-version',
      '0.0.3',
    ]);
    assert.equal(text.status, 1);
    const lines = text.stdout.trimEnd().split('\n');
    assert.equal(lines.length, 2, text.stdout);
    assert.match(lines[0]!, /^signature: does not verify/);
    assert.equal(lines[1], 'hv:version 0.0.2 is older than the previous version 0.0.3');
    assert.match(text.stderr, /imagecast: invalid image list \(2 problems\)/);

    const json = await cli([
      'imagelist',
      'verify',
      join(dir, 'tampered.list'),
      '--ca',
      ca.certPath,
      '--json',
    ]);
    assert.equal(json.status, 1);
    const result = JSON.parse(json.stdout);
    assert.equal(result.valid, false);
    assert.equal(result.problems.length, 1);
  });

  it('exit 2 for usage: no CA, both CA options, an unreadable file, a missing CA or images directory', async () => {
    const list = join(dir, 'image.list');
    const cases: Array<[string[], RegExp]> = [
      [[list], /give the trusted CA: --ca CA\.pem or --capath DIR/],
      [
        [list, '--ca', ca.certPath, '--capath', dir],
        /option '--ca <file>' cannot be used with option '--capath <dir>'/,
      ],
      [[join(dir, 'nothing'), '--ca', ca.certPath], /the list: cannot read .*nothing: ENOENT/],
      [[list, '--ca', join(dir, 'no-ca.pem')], /--ca: no such file: /],
      [[list, '--capath', ca.certPath], /--capath: not a directory: /],
      [[list, '--ca', ca.certPath, '--images', join(dir, 'no-images')], /--images: no such directory: /],
    ];
    for (const [args, message] of cases) {
      const run = await cli(['imagelist', 'verify', ...args, '--json']);
      assert.equal(run.status, 2, `${args.join(' ')}: ${run.stderr}`);
      const { error } = JSON.parse(run.stdout);
      assert.equal(error.code, 'invalid_input');
      assert.match(error.message, message);
    }
  });

  it('sign: exit 2 naming the problem for an unfit certificate, with the problems in --json', async () => {
    const expired = ca.issue('expired', '/C=DE/O=GermanGrid/CN=Expired', {
      startDate: '20200101000000Z',
      endDate: '20210101000000Z',
      keyUsage: 'keyEncipherment',
    });
    const run = await cli([
      'imagelist',
      'sign',
      join(dir, 'list.json'),
      '--cert',
      expired.certPath,
      '--key',
      expired.keyPath,
      '--json',
    ]);
    assert.equal(run.status, 2, run.stderr);
    const { error } = JSON.parse(run.stdout);
    assert.equal(error.code, 'invalid_input');
    assert.deepEqual(
      error.problems
        .map((p: string) => p.replace(/^certificate \/C=DE\/O=GermanGrid\/CN=Expired: /, ''))
        .slice(0, 2),
      [
        'lacks the keyUsage digitalSignature (vmcaster refuses such a certificate and subscribers cannot verify its signature)',
        'expired at 2021-01-01T00:00:00Z',
      ],
    );
    assert.match(
      run.stderr,
      /hv:dn is .* but the certificate's subject is "\/C=DE\/O=GermanGrid\/CN=Expired"/,
    );
  });
});
