// `imagecast imagelist endorser|add|set|image|publish|import|export` as people run them: the
// compiled CLI as a child process, against a real PostgreSQL, signing with the real openssl,
// and the published lists checked by `openssl smime -verify` as well as by our verify.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type pg from 'pg';
import { createPool } from '../../../infra/db/pool.js';
import { runCli } from '../../support/cli-process.js';
import { asn1Time, makeTestCa, opensslRun, type IssuedCert, type TestCa } from '../../support/openssl-ca.js';
import { freshDatabaseUrl, tempDir } from '../../support/stack.js';

const DN = '/C=DE/O=GermanGrid/OU=Imagecast/CN=Imagecast Test Endorser/emailAddress=endorser@example.org';
const OTHER_DN = '/C=DE/O=GermanGrid/OU=Imagecast/CN=Second Endorser';
const CA_DN = '/C=DE/O=GermanGrid/CN=Imagecast Test CA';
const SHA512 = 'a'.repeat(128);

describe('imagecast imagelist: stored lists (CLI, PostgreSQL, openssl)', () => {
  const dir = tempDir('cli-imagelists');
  const www = join(dir, 'www');
  const keysFile = join(dir, 'keys.json');
  const configFile = join(dir, 'config.json');
  let ca: TestCa;
  let endorser: IssuedCert;
  let databaseUrl: string;
  let pool: pg.Pool;
  let env: NodeJS.ProcessEnv;
  let listId: string;
  const imageId = randomUUID();

  before(async () => {
    ca = makeTestCa(join(dir, 'ca'));
    endorser = ca.issue('endorser', DN);
    databaseUrl = await freshDatabaseUrl('cli-imagelists');
    pool = createPool(databaseUrl);
    writeFileSync(
      keysFile,
      JSON.stringify({ current: 'k1', keys: { k1: randomBytes(32).toString('base64') } }),
    );
    writeFileSync(
      configFile,
      JSON.stringify({
        imagelist_publish: [{ uri_match: 'https://lists.example.org/', uri_replace: `file://${www}/` }],
      }),
    );
    env = {
      ...process.env,
      IMAGECAST_DATABASE_URL: databaseUrl,
      IMAGECAST_MASTER_KEYS_FILE: keysFile,
      IMAGECAST_MASTER_KEY: '',
      IMAGECAST_CONFIG: configFile,
    };
  });
  after(async () => pool?.end());

  const cli = (args: string[], extraEnv: NodeJS.ProcessEnv = {}) =>
    runCli(['imagelist', ...args], { ...env, ...extraEnv });
  const json = async (args: string[]) => {
    const ran = await cli([...args, '--json']);
    assert.equal(ran.status, 0, `${args.join(' ')}: ${ran.stderr}`);
    return JSON.parse(ran.stdout);
  };

  it('endorser add, list, show and delete: names from the certificate, the key sealed and never printed', async () => {
    const unfit = ca.issue('nodigsig', '/C=DE/O=GermanGrid/CN=No Digital Signature', {
      keyUsage: 'critical,keyEncipherment',
    });
    const refused = await cli(['endorser', 'add', '--cert', unfit.certPath, '--key', unfit.keyPath]);
    assert.equal(refused.status, 2, refused.stderr);
    assert.match(refused.stderr, /lacks the keyUsage digitalSignature/);
    const now = Date.now();
    const expired = ca.issue('expired', '/C=DE/O=GermanGrid/CN=Expired', {
      startDate: asn1Time(new Date(now - 10 * 86_400_000)),
      endDate: asn1Time(new Date(now - 86_400_000)),
    });
    const old = await cli([
      'endorser',
      'add',
      '--cert',
      expired.certPath,
      '--key',
      expired.keyPath,
      '--json',
    ]);
    assert.equal(old.status, 2);
    assert.match(JSON.parse(old.stdout).error.message, /expired at \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ/);
    const wrongKey = await cli(['endorser', 'add', '--cert', endorser.certPath, '--key', unfit.keyPath]);
    assert.equal(wrongKey.status, 2);
    assert.match(wrongKey.stderr, /--key: does not belong to the certificate/);

    const added = await json(['endorser', 'add', '--cert', endorser.certPath, '--key', endorser.keyPath]);
    assert.equal(added.dn, DN);
    assert.equal(added.ca, CA_DN);
    assert.equal(added.email, 'endorser@example.org');
    assert.equal(added.creator, 'Imagecast Test Endorser');
    assert.equal(added.keyId, 'k1');
    const again = await cli(['endorser', 'add', '--cert', endorser.certPath, '--key', endorser.keyPath]);
    assert.equal(again.status, 2);
    assert.match(again.stderr, /exists already; give --replace/);
    const replaced = await cli([
      'endorser',
      'add',
      '--cert',
      endorser.certPath,
      '--key',
      endorser.keyPath,
      '--replace',
      '--creator',
      'Imagecast',
    ]);
    assert.equal(replaced.status, 0, replaced.stderr);

    const second = ca.issue('second', OTHER_DN);
    assert.equal(
      (
        await cli([
          'endorser',
          'add',
          '--cert',
          second.certPath,
          '--key',
          second.keyPath,
          '--email',
          'second@example.org',
        ])
      ).status,
      0,
    );
    assert.deepEqual(
      (await json(['endorser', 'list'])).map((e: { dn: string }) => e.dn).sort(),
      [OTHER_DN, DN].sort(),
    );
    const shown = await cli(['endorser', 'show', DN]);
    assert.equal(shown.status, 0, shown.stderr);
    assert.match(shown.stdout, /dc:creator: Imagecast\n/);
    assert.match(shown.stdout, /key: stored, sealed with master key k1/);
    assert.equal((await cli(['endorser', 'delete', OTHER_DN])).status, 0);
    const gone = await cli(['endorser', 'show', OTHER_DN, '--json']);
    assert.equal(gone.status, 1);
    assert.equal(JSON.parse(gone.stdout).error.code, 'not_found');
    assert.match(
      JSON.parse(gone.stdout).error.message,
      /no endorser \/C=DE.*Second Endorser \(stored: \/C=DE/,
    );

    const keyText = readFileSync(endorser.keyPath, 'utf8').split('\n')[1]!;
    const { rows } = await pool.query<{ t: string }>(
      'SELECT row_to_json(e)::text AS t FROM imagelist_endorsers e',
    );
    assert.ok(!rows[0]!.t.includes(keyText), 'the private key is not stored in the clear');
    for (const ran of [added, shown]) assert.ok(!JSON.stringify(ran).includes(keyText));
  });

  it('list add, set and unset; image add, set, unset and remove; each refusal names the key, the expectation and the value', async () => {
    const list = await json([
      'add',
      '--title',
      'Imagecast images',
      '--uri',
      'https://lists.example.org/imagecast/image.list',
      'ad:vo=vo.example.org',
    ]);
    listId = list.identifier;
    assert.equal(list.version, '0.0.0');
    assert.equal(list.endorserDn, DN);
    assert.equal(list.status, 'unpublished');
    assert.deepEqual(list.metadata, {
      'dc:title': 'Imagecast images',
      'dc:description': '',
      'dc:source': 'lists.example.org',
      'hv:uri': 'https://lists.example.org/imagecast/image.list',
      'ad:vo': 'vo.example.org',
    });
    assert.equal((await json(['set', listId, 'ad:group', 'cloud'])).metadata['ad:group'], 'cloud');
    assert.equal((await json(['set', listId, 'lifetime', '14'])).lifetimeDays, 14);
    assert.equal((await json(['unset', listId, 'ad:group'])).metadata['ad:group'], undefined);

    const missing = await cli(['unset', listId, 'dc:title']);
    assert.equal(missing.status, 2);
    assert.match(missing.stderr, /dc:title: required/);
    const badUri = await cli(['set', listId, 'hv:uri', 'ftp://lists.example.org/x']);
    assert.equal(badUri.status, 2);
    assert.match(
      badUri.stderr,
      /hv:uri: expected an http, https or file URL; given "ftp:\/\/lists.example.org\/x"/,
    );
    const computed = await cli(['set', listId, 'dc:date:expires', '2030-01-01T00:00:00Z']);
    assert.equal(computed.status, 2);
    assert.match(computed.stderr, /dc:date:expires: not set by hand: publish sets it/);
    const lifetime = await cli(['set', listId, 'lifetime', 'soon']);
    assert.match(lifetime.stderr, /lifetime: expected a whole number of days.*given "soon"/);

    const file = join(dir, 'alpine.qcow2');
    writeFileSync(file, randomBytes(4096));
    const image = [
      'dc:title=Alpine 3.20',
      'dc:description=Alpine built by Imagecast',
      'hv:uri=https://images.example.org/alpine.qcow2',
      'sl:arch=x86_64',
      'sl:os=Linux',
      'sl:osversion=3.20',
      'sl:comments=',
      'hv:hypervisor=kvm',
      'hv:version=1.0.0',
      'hv:format=qcow2',
    ];
    const withImage = await json(['image', 'add', listId, '--identifier', imageId, '--file', file, ...image]);
    const stored = withImage.images[0];
    assert.equal(stored['hv:size'], 4096);
    assert.match(stored['sl:checksum:sha512'], /^[0-9a-f]{128}$/);
    assert.equal(stored['sl:comments'], '');

    const incomplete = await cli(['image', 'add', listId, 'dc:title=Half an image']);
    assert.equal(incomplete.status, 2);
    assert.match(incomplete.stderr, /image [0-9a-f-]{36}: hv:uri: required/);
    assert.match(incomplete.stderr, /sl:arch: required/);
    const badId = await cli(['image', 'add', listId, '--identifier', 'nope', ...image]);
    assert.equal(badId.status, 2);
    assert.match(badId.stderr, /dc:identifier: expected a UUID such as .*; given "nope"/);
    const badSize = await cli(['image', 'set', listId, imageId, 'hv:size', '12x']);
    assert.equal(badSize.status, 2);
    assert.match(badSize.stderr, /hv:size: expected a number.*given "12x"/);

    assert.equal(
      (await json(['image', 'set', listId, imageId, 'hv:version', '1.0.1'])).images[0]['hv:version'],
      '1.0.1',
    );
    assert.equal(
      (await json(['image', 'unset', listId, imageId, 'hv:format'])).images[0]['hv:format'],
      undefined,
    );
    const second = randomUUID();
    await json([
      'image',
      'add',
      listId,
      '--identifier',
      second,
      `sl:checksum:sha512=${SHA512}`,
      'hv:size=1',
      ...image,
    ]);
    const removed = await json(['image', 'remove', listId, second]);
    assert.deepEqual(
      removed.images.map((i: Record<string, string>) => i['dc:identifier']),
      [imageId],
    );

    const showBad = await cli(['show', 'not-a-uuid']);
    assert.equal(showBad.status, 2);
    assert.match(showBad.stderr, /ID: expected a UUID .*; given "not-a-uuid"/);
    const unknown = await cli(['show', randomUUID(), '--json']);
    assert.equal(unknown.status, 1);
    assert.equal(JSON.parse(unknown.stdout).error.code, 'not_found');
    assert.match(
      JSON.parse(unknown.stdout).error.message,
      new RegExp(`no image list .* \\(stored: ${listId}\\)`),
    );
    const inUse = await cli(['endorser', 'delete', DN]);
    assert.equal(inUse.status, 2);
    assert.match(inUse.stderr, new RegExp(`signs the list\\(s\\) ${listId}`));
  });

  it('publish bumps hv:version and writes a list that openssl smime -verify and our verify accept', async () => {
    const first = await json(['publish', listId]);
    assert.equal(first.previousVersion, '0.0.0');
    assert.equal(first.version, '0.0.1');
    assert.equal(first.target, `file://${www}/imagecast/image.list`);
    assert.match(first.created, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    assert.equal(
      Date.parse(first.expires) - Date.parse(first.created),
      14 * 86_400_000,
      'the stored lifetime',
    );
    const published = join(www, 'imagecast', 'image.list');
    const content = opensslRun(['smime', '-verify', '-in', published, '-CAfile', ca.certPath]);
    const body = JSON.parse(content)['hv:imagelist'];
    assert.equal(body['hv:version'], '0.0.1');
    assert.deepEqual(body['hv:endorser'], {
      'hv:x509': {
        'dc:creator': 'Imagecast',
        'hv:ca': CA_DN,
        'hv:dn': DN,
        'hv:email': 'endorser@example.org',
      },
    });
    assert.equal(body['hv:images'][0]['hv:image']['dc:identifier'], imageId);

    const second = await json(['publish', listId, '--lifetime', '3']);
    assert.equal(second.version, '0.0.2');
    // A one-off: the list keeps its own lifetime; renewal keeps the last publish's (docs/imagelists.md#renewal).
    const shown = await json(['show', listId]);
    assert.deepEqual([shown.lifetimeDays, shown.publishedLifetimeDays], [14, 3]);
    assert.match((await cli(['show', listId])).stdout, /lifetime: 14 days \(last published for 3 days: renewal keeps that/);
    const verified = await runCli(
      [
        'imagelist',
        'verify',
        published,
        '--ca',
        ca.certPath,
        '--crl',
        ca.crl(),
        '--identifier',
        listId,
        '--previous-version',
        '0.0.1',
      ],
      env,
    );
    assert.equal(verified.status, 0, verified.stdout + verified.stderr);
    assert.match(verified.stdout, /^valid: Imagecast images .* version 0\.0\.2, 1 image\(s\)/);
    // Three days left of three: not flagged (a renewed list never is). Had it been published five
    // days ago (an eight-day window), less than half its time would be left: flagged.
    assert.equal((await json(['list']))[0].status, 'current');
    await pool.query(
      `UPDATE imagelists SET published_at = expires_at - interval '8 days' WHERE identifier = $1`,
      [listId],
    );
    const listed = await cli(['list']);
    assert.match(
      listed.stdout,
      new RegExp(
        `${listId} "Imagecast images" version 0\\.0\\.2, 1 image\\(s\\), EXPIRES SOON, at .* \\(2 day\\(s\\)\\): publish it again`,
      ),
    );
    assert.equal((await json(['list']))[0].status, 'expiring');

    // Nowhere to upload: refused before signing, the stored version unchanged.
    await json(['set', listId, 'hv:uri', 'https://elsewhere.example.org/image.list']);
    const unmapped = await cli(['publish', listId]);
    assert.equal(unmapped.status, 2);
    assert.match(
      unmapped.stderr,
      /no upload target for hv:uri https:\/\/elsewhere.example.org\/image.list: .*"uri_match": "https:\/\/elsewhere.example.org\/"/,
    );
    const sftpConfig = join(dir, 'sftp.json');
    writeFileSync(
      sftpConfig,
      JSON.stringify({
        imagelist_publish: [
          { uri_match: 'https://elsewhere.example.org/', uri_replace: 'ftp://host/lists/' },
        ],
      }),
    );
    const unsupported = await cli(['publish', listId], { IMAGECAST_CONFIG: sftpConfig });
    assert.equal(unsupported.status, 2);
    assert.match(
      unsupported.stderr,
      /cannot upload to ftp:\/\/host\/lists\/image.list: no publisher for ftp; supported: file:\/\/, sftp:\/\/, s3:\/\/, gs:\/\/, azure-blob:\/\//,
    );
    writeFileSync(
      sftpConfig,
      JSON.stringify({
        imagelist_publish: [{ uri_match: 'https://elsewhere.example.org/', uri_replace: 's3://bucket/lists/' }],
      }),
    );
    const noAccount = await cli(['publish', listId], { IMAGECAST_CONFIG: sftpConfig });
    assert.equal(noAccount.status, 2);
    assert.match(
      noAccount.stderr,
      /imagelist_publish\[0\]\.account: required with a s3:\/\/ uri_replace \(s3:\/\/bucket\/lists\/\): the stored ec2 account that writes there/,
    );
    assert.equal((await json(['show', listId])).version, '0.0.2');
  });

  it('imports a list signed by hand with openssl smime -sign (as vmcaster makes them), exports it signed, and publishes it on', async () => {
    const id = randomUUID();
    const listFile = join(dir, 'vmcaster.json');
    const handMade = {
      'hv:imagelist': {
        'dc:date:created': new Date(Date.now() - 3600_000).toISOString().replace(/\.\d{3}Z$/, 'Z'),
        'dc:date:expires': new Date(Date.now() + 20 * 86_400_000).toISOString().replace(/\.\d{3}Z$/, 'Z'),
        'dc:description': 'made by vmcaster',
        'dc:identifier': id,
        'dc:source': 'lists.example.org',
        'dc:title': 'Hand made',
        'hv:endorser': {
          'hv:x509': {
            'dc:creator': 'Imagecast',
            'hv:ca': CA_DN,
            'hv:dn': DN,
            'hv:email': 'endorser@example.org',
          },
        },
        'hv:images': [
          {
            'hv:image': {
              'dc:description': '',
              'dc:identifier': randomUUID(),
              'dc:title': 'CentOS 7',
              'hv:hypervisor': 'kvm',
              'hv:size': 42,
              'hv:uri': 'https://images.example.org/centos7.img',
              'hv:version': '7.9',
              'sl:arch': 'x86_64',
              'sl:checksum:sha512': SHA512,
              'sl:comments': '',
              'sl:os': 'Linux',
              'sl:osversion': '7',
            },
          },
        ],
        'hv:uri': 'https://lists.example.org/hand/image.list',
        'hv:version': '3.1.4',
      },
    };
    writeFileSync(listFile, JSON.stringify(handMade, null, 4));
    const signedFile = join(dir, 'vmcaster.list');
    opensslRun([
      'smime',
      '-sign',
      '-signer',
      endorser.certPath,
      '-inkey',
      endorser.keyPath,
      '-in',
      listFile,
      '-out',
      signedFile,
    ]);

    const imported = await json(['import', signedFile, '--ca', ca.certPath]);
    assert.equal(imported.identifier, id);
    assert.equal(imported.created, true);
    assert.equal(imported.signed, true);
    assert.deepEqual(imported.signer, { dn: DN, ca: CA_DN });
    const shown = await json(['show', id]);
    assert.equal(shown.version, '3.1.4');
    assert.equal(shown.images.length, 1);
    assert.equal(shown.metadata['dc:description'], 'made by vmcaster');
    assert.equal(shown.expiresAt, handMade['hv:imagelist']['dc:date:expires']);

    // Changed after signing: the signature no longer verifies.
    writeFileSync(
      join(dir, 'tampered.list'),
      readFileSync(signedFile, 'utf8').replace('made by vmcaster', 'made by someone'),
    );
    const tampered = await cli(['import', join(dir, 'tampered.list')]);
    assert.equal(tampered.status, 2);
    assert.match(tampered.stderr, /signature: does not verify/);
    // An older version does not replace a newer one.
    handMade['hv:imagelist']['hv:version'] = '3.1.3';
    writeFileSync(listFile, JSON.stringify(handMade));
    const older = await cli(['import', listFile]);
    assert.equal(older.status, 2);
    assert.match(
      older.stderr,
      /hv:version: the stored list .* has version 3\.1\.4, newer than the 3\.1\.3 given/,
    );
    // An endorser that is not stored cannot be published again.
    const stranger = {
      'hv:imagelist': {
        ...handMade['hv:imagelist'],
        'dc:identifier': randomUUID(),
        'hv:endorser': {
          'hv:x509': { ...handMade['hv:imagelist']['hv:endorser']['hv:x509'], 'hv:dn': OTHER_DN },
        },
      },
    };
    writeFileSync(listFile, JSON.stringify(stranger));
    const unknownEndorser = await cli(['import', listFile]);
    assert.equal(unknownEndorser.status, 2);
    assert.match(
      unknownEndorser.stderr,
      /hv:endorser.hv:x509.hv:dn: no stored endorser \/C=DE.*Second Endorser .*endorser add --cert/,
    );

    const exportedFile = join(dir, 'exported.list');
    assert.equal((await cli(['export', id, '--signed', '--out', exportedFile])).status, 0);
    const exportedContent = JSON.parse(
      opensslRun(['smime', '-verify', '-in', exportedFile, '-CAfile', ca.certPath]),
    )['hv:imagelist'];
    assert.equal(exportedContent['hv:version'], '3.1.4', 'export does not bump the version');
    const ours = await runCli(
      ['imagelist', 'verify', exportedFile, '--ca', ca.certPath, '--identifier', id],
      env,
    );
    assert.equal(ours.status, 0, ours.stdout + ours.stderr);
    const plain = JSON.parse((await cli(['export', id])).stdout)['hv:imagelist'];
    assert.equal(plain['dc:date:created'], handMade['hv:imagelist']['dc:date:created']);
    assert.equal(plain['hv:images'][0]['hv:image']['dc:title'], 'CentOS 7');

    const republished = await json(['publish', id]);
    assert.equal(republished.version, '3.1.5');
    assert.equal(republished.target, `file://${www}/hand/image.list`);
  });

  it('keys rotate re-wraps the endorser keys too; publishing still works with only the new master key', async () => {
    const k2 = randomBytes(32).toString('base64');
    const both = JSON.parse(readFileSync(keysFile, 'utf8'));
    writeFileSync(keysFile, JSON.stringify({ current: 'k2', keys: { ...both.keys, k2 } }));
    const rotated = await runCli(['keys', 'rotate', '--json'], env);
    assert.equal(rotated.status, 0, rotated.stderr);
    assert.equal(JSON.parse(rotated.stdout).endorsers, 1);
    const onlyNew = join(dir, 'k2.json');
    writeFileSync(onlyNew, JSON.stringify({ current: 'k2', keys: { k2 } }));
    await json(['set', listId, 'hv:uri', 'https://lists.example.org/imagecast/image.list']);
    const published = await cli(['publish', listId, '--json'], { IMAGECAST_MASTER_KEYS_FILE: onlyNew });
    assert.equal(published.status, 0, published.stderr);
    assert.equal(JSON.parse(published.stdout).version, '0.0.3');
  });
});
