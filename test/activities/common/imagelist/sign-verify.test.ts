import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { signImageList, ImageListSignRefused } from '../../../../activities/common/imagelist/sign.js';
import { verifyImageList, type VerifyOptions } from '../../../../activities/common/imagelist/verify.js';
import { readCertificate } from '../../../../activities/common/imagelist/endorser-certificate.js';
import { formatHepixDate } from '../../../../activities/common/imagelist/hepix-date.js';
import {
  asn1Time,
  makeTestCa,
  opensslRun,
  type IssuedCert,
  type TestCa,
} from '../../../support/openssl-ca.js';

const DAY = 86_400_000;
const dir = mkdtempSync(join(tmpdir(), 'imagecast-imagelist-'));
after(() => rmSync(dir, { recursive: true, force: true }));

let ca: TestCa;
let otherCa: TestCa;
let endorser: IssuedCert;
let revoked: IssuedCert;
let crlPath: string;
const imagesDir = join(dir, 'images');
const imageBytes = Buffer.from('a small qcow2 image, for the checksum\n'.repeat(1000));

const ENDORSER_DN = '/C=DE/O=GermanGrid/OU=Imagecast/CN=Imagecast Test Endorser';

before(() => {
  ca = makeTestCa(join(dir, 'ca'));
  otherCa = makeTestCa(join(dir, 'other-ca'), '/C=DE/O=Elsewhere/CN=Other CA');
  endorser = ca.issue('endorser', ENDORSER_DN);
  revoked = ca.issue('revoked', '/C=DE/O=GermanGrid/OU=Imagecast/CN=Revoked Endorser');
  ca.revoke(revoked);
  crlPath = ca.crl();
  mkdirSync(imagesDir);
  writeFileSync(join(imagesDir, 'alpine-3.20-x86_64.qcow2'), imageBytes);
});

/** A complete list for a certificate, as vmcaster would write it. */
function listFor(cert: IssuedCert, edit: (body: Record<string, unknown>) => void = () => undefined): string {
  const x509 = readCertificate(readFileSync(cert.certPath));
  const now = Date.now();
  const body: Record<string, unknown> = {
    'dc:date:created': formatHepixDate(new Date(now - 60_000)),
    'dc:date:expires': formatHepixDate(new Date(now + 7 * DAY)),
    'dc:description': 'Images released by Imagecast',
    'dc:identifier': '3a7b9c2e-5d41-4f8a-9b6e-1c2d3e4f5a6b',
    'dc:source': 'images.example.org',
    'dc:title': 'Imagecast images',
    'hv:version': '0.0.10',
    'hv:uri': 'https://images.example.org/imagecast/image.list',
    'hv:endorser': {
      'hv:x509': {
        'dc:creator': 'Imagecast Test Endorser',
        'hv:ca': x509.ca,
        'hv:dn': x509.dn,
        'hv:email': 'endorser@example.org',
      },
    },
    'hv:images': [
      {
        'hv:image': {
          'dc:identifier': '0088b565-2892-41c8-94c0-2e8a1c515ee9',
          'dc:title': 'Alpine 3.20',
          'dc:description': 'Alpine 3.20 built by Imagecast',
          'hv:uri': 'https://images.example.org/imagecast/alpine-3.20-x86_64.qcow2',
          'hv:size': imageBytes.length,
          'sl:checksum:sha512': createHash('sha512').update(imageBytes).digest('hex'),
          'hv:version': '1.0.0',
          'hv:hypervisor': 'kvm',
          'hv:format': 'qcow2',
          'sl:arch': 'x86_64',
          'sl:os': 'Linux',
          'sl:osname': 'Alpine',
          'sl:osversion': '3.20',
          'sl:comments': '',
        },
      },
    ],
  };
  edit(body);
  return JSON.stringify({ 'hv:imagelist': body }, null, 4);
}

let counter = 0;
/** What vmcaster makes: `openssl smime -sign -signer CERT -inkey KEY -in list.json`. */
function handSign(listText: string, cert: IssuedCert, extra: string[] = []): Buffer {
  const name = join(dir, `hand-${counter++}`);
  writeFileSync(`${name}.json`, listText);
  opensslRun([
    'smime',
    '-sign',
    '-signer',
    cert.certPath,
    '-inkey',
    cert.keyPath,
    '-in',
    `${name}.json`,
    '-out',
    `${name}.smime`,
    ...extra,
  ]);
  return readFileSync(`${name}.smime`);
}

const trustCa = (extra: Partial<VerifyOptions> = {}): VerifyOptions => ({
  caFile: ca.certPath,
  now: new Date(),
  ...extra,
});

async function signWithEndorser(
  listText = listFor(endorser),
  extra: { now?: Date; lifetimeDays?: number; keepDates?: boolean } = {},
) {
  return signImageList({
    listText,
    certificatePem: readFileSync(endorser.certPath),
    keyPem: readFileSync(endorser.keyPath),
    now: new Date(),
    ...extra,
  });
}

describe('imagelist sign', () => {
  it('writes what openssl smime -sign writes: detached multipart/signed, signer included, no text header', async () => {
    const signed = await signWithEndorser();
    const text = signed.smime.toString('utf8');
    assert.match(
      text,
      /^MIME-Version: 1\.0\r?\nContent-Type: multipart\/signed; protocol="application\/x-pkcs7-signature"; micalg="sha-256"; boundary="----[0-9A-F]+"/,
    );
    assert.doesNotMatch(text, /Content-Type: text\/plain/);
    // The first part is the JSON itself, which is what vmcatcher hands to json.loads.
    const boundary = /boundary="([^"]+)"/.exec(text)![1]!;
    const firstPart = text.split(`--${boundary}`)[1]!;
    assert.match(firstPart, /^\r?\n\{\r\n {4}"hv:imagelist": \{/);
    // The same layout as a list signed by hand with openssl, line for line but the boundary and base64.
    const hand = handSign(listFor(endorser), endorser).toString('utf8');
    const shape = (s: string) =>
      s
        .split('\n')
        .slice(0, 6)
        .map((l) => l.replace(/[0-9A-F]{32}/g, 'B'))
        .join('\n');
    assert.equal(shape(text).replace(/\{.*/s, ''), shape(hand).replace(/\{.*/s, ''));
  });

  it('is accepted by openssl smime -verify -CAfile and by our verify', async () => {
    const signed = await signWithEndorser();
    const path = join(dir, 'ours.smime');
    writeFileSync(path, signed.smime);
    const content = opensslRun([
      'smime',
      '-verify',
      '-in',
      path,
      '-CAfile',
      ca.certPath,
      '-purpose',
      'smimesign',
    ]);
    assert.equal(JSON.parse(content)['hv:imagelist']['hv:version'], '0.0.10');
    const result = await verifyImageList(
      signed.smime,
      trustCa({
        crlFile: crlPath,
        imagesDir,
        identifier: '3a7b9c2e-5d41-4f8a-9b6e-1c2d3e4f5a6b',
        previousVersion: '0.0.9',
      }),
    );
    assert.deepEqual(result.problems, []);
    assert.deepEqual(result.signer, { dn: ENDORSER_DN, ca: ca.dn });
  });

  it('sets created to now and expires 28 days on, but never past the certificate', async () => {
    const now = new Date('2026-12-04T10:00:00.123Z');
    const signed = await signWithEndorser(listFor(endorser), { now: new Date(Date.now()) });
    const body = signed.list['hv:imagelist'];
    assert.equal(Date.parse(body['dc:date:expires']) - Date.parse(body['dc:date:created']), 28 * DAY);
    const short = ca.issue('short', '/C=DE/O=GermanGrid/CN=Short Lived', {
      endDate: asn1Time(new Date(Date.now() + 3 * DAY)),
    });
    const capped = await signImageList({
      listText: listFor(short),
      certificatePem: readFileSync(short.certPath),
      keyPem: readFileSync(short.keyPath),
      now: new Date(),
    });
    assert.equal(
      capped.list['hv:imagelist']['dc:date:expires'],
      formatHepixDate(readCertificate(readFileSync(short.certPath)).notAfter),
    );
    assert.match(capped.notes[0]!, /when the certificate expires/);
    assert.doesNotMatch(formatHepixDate(now), /\./);
  });

  it('refuses a certificate without keyUsage digitalSignature', async () => {
    const plain = ca.issue('no-ds', '/C=DE/O=GermanGrid/CN=No Digital Signature', {
      keyUsage: 'critical,keyEncipherment',
    });
    const none = ca.issue('no-ku', '/C=DE/O=GermanGrid/CN=No Key Usage', { keyUsage: null });
    for (const cert of [plain, none]) {
      await assert.rejects(
        signImageList({
          listText: listFor(cert),
          certificatePem: readFileSync(cert.certPath),
          keyPem: readFileSync(cert.keyPath),
          now: new Date(),
        }),
        (e: unknown) =>
          e instanceof ImageListSignRefused &&
          e.problems.length === 1 &&
          /lacks the keyUsage digitalSignature/.test(e.problems[0]!),
      );
    }
  });

  it('refuses a certificate whose extendedKeyUsage does not allow S/MIME', async () => {
    const server = ca.issue('server', '/C=DE/O=GermanGrid/CN=Server Only', {
      extendedKeyUsage: 'serverAuth',
    });
    await assert.rejects(
      signImageList({
        listText: listFor(server),
        certificatePem: readFileSync(server.certPath),
        keyPem: readFileSync(server.keyPath),
        now: new Date(),
      }),
      /extendedKeyUsage lacks emailProtection/,
    );
  });

  it('refuses an expired or not yet valid certificate', async () => {
    const old = ca.issue('expired', '/C=DE/O=GermanGrid/CN=Expired', {
      startDate: '20200101000000Z',
      endDate: '20210101000000Z',
    });
    await assert.rejects(
      signImageList({
        listText: listFor(old),
        certificatePem: readFileSync(old.certPath),
        keyPem: readFileSync(old.keyPath),
        now: new Date(),
      }),
      /certificate \/C=DE\/O=GermanGrid\/CN=Expired: expired at 2021-01-01T00:00:00Z/,
    );
    await assert.rejects(
      signWithEndorser(listFor(endorser), { now: new Date(Date.now() - 30 * DAY) }),
      /not valid before/,
    );
  });

  it("refuses a key that is not the certificate's", async () => {
    await assert.rejects(
      signImageList({
        listText: listFor(endorser),
        certificatePem: readFileSync(endorser.certPath),
        keyPem: readFileSync(revoked.keyPath),
        now: new Date(),
      }),
      /private key: does not belong to the certificate/,
    );
  });

  it("refuses hv:dn and hv:ca that are not the certificate's subject and issuer, naming both", async () => {
    const wrong = listFor(endorser, (b) => {
      b['hv:endorser'] = {
        'hv:x509': {
          'dc:creator': 'x',
          'hv:email': 'x@example.org',
          'hv:dn': '/CN=Someone Else',
          'hv:ca': '/CN=Imagecast Test CA',
        },
      };
    });
    await assert.rejects(signWithEndorser(wrong), (e: unknown) => {
      assert.ok(e instanceof ImageListSignRefused);
      assert.deepEqual(e.problems, [
        `hv:endorser.hv:x509.hv:dn is "/CN=Someone Else" but the certificate's subject is "${ENDORSER_DN}"`,
        `hv:endorser.hv:x509.hv:ca is "/CN=Imagecast Test CA" but the certificate's issuer is "${ca.dn}"`,
      ]);
      return true;
    });
  });

  it('refuses an invalid list with every problem', async () => {
    const bad = listFor(endorser, (b) => {
      b['hv:version'] = 3;
      delete b['dc:title'];
    });
    await assert.rejects(signWithEndorser(bad), (e: unknown) => {
      assert.ok(e instanceof ImageListSignRefused);
      assert.deepEqual(e.problems, [
        'hv:imagelist.dc:title: required',
        'hv:imagelist.hv:version: expected a string, got a number',
      ]);
      return true;
    });
  });

  it('with keepDates signs the bytes given, and refuses dates past the certificate', async () => {
    const text = listFor(endorser);
    const signed = await signWithEndorser(text, { keepDates: true });
    assert.ok(signed.smime.toString('utf8').includes(text.replace(/\n/g, '\r\n')));
    const late = listFor(endorser, (b) => (b['dc:date:expires'] = '2099-01-01T00:00:00Z'));
    await assert.rejects(signWithEndorser(late, { keepDates: true }), /is after the certificate expires/);
  });
});

describe('imagelist verify', () => {
  it('accepts a list vmcaster signed (openssl smime -sign by hand), with a CA directory too', async () => {
    const message = handSign(listFor(endorser), endorser);
    assert.deepEqual((await verifyImageList(message, trustCa({ crlFile: crlPath }))).problems, []);
    const caPath = join(dir, 'capath');
    mkdirSync(caPath, { recursive: true });
    const hash = opensslRun(['x509', '-in', ca.certPath, '-noout', '-subject_hash']).trim();
    writeFileSync(join(caPath, `${hash}.0`), readFileSync(ca.certPath));
    assert.deepEqual((await verifyImageList(message, { caPath, now: new Date() })).problems, []);
  });

  it('accepts an old list signed with SHA-1 (micalg="sha1", M2Crypto\'s default)', async () => {
    const message = handSign(listFor(endorser), endorser, ['-md', 'sha1']);
    assert.match(message.toString('utf8'), /micalg="sha1"/);
    assert.deepEqual((await verifyImageList(message, trustCa())).problems, []);
  });

  it('refuses a list whose signer certificate has expired', async () => {
    const old = ca.issue('expired-signer', '/C=DE/O=GermanGrid/CN=Expired Signer', {
      startDate: '20200101000000Z',
      endDate: '20210101000000Z',
    });
    const { problems } = await verifyImageList(handSign(listFor(old), old), trustCa());
    assert.deepEqual(problems, [
      'signer certificate /C=DE/O=GermanGrid/CN=Expired Signer (issuer /C=DE/O=GermanGrid/CN=Imagecast Test CA): certificate has expired',
    ]);
  });

  it('refuses a tampered body', async () => {
    const message = handSign(listFor(endorser), endorser)
      .toString('utf8')
      .replace('"Alpine 3.20"', '"Alpine 3.21"');
    const { problems } = await verifyImageList(Buffer.from(message), trustCa());
    assert.equal(problems.length, 1, problems.join('\n'));
    assert.match(
      problems[0]!,
      /^signature: does not verify \(.*digest failure.*\): the list was changed after signing/,
    );
  });

  it('refuses an expired list', async () => {
    const text = listFor(endorser, (b) => {
      b['dc:date:created'] = '2026-01-01T00:00:00Z';
      b['dc:date:expires'] = '2026-01-29T00:00:00Z';
    });
    assert.deepEqual((await verifyImageList(handSign(text, endorser), trustCa())).problems, [
      'the list expired at 2026-01-29T00:00:00Z',
    ]);
  });

  it('refuses a list created in the future', async () => {
    const text = listFor(
      endorser,
      (b) => (b['dc:date:created'] = formatHepixDate(new Date(Date.now() + DAY))),
    );
    assert.match(
      (await verifyImageList(handSign(text, endorser), trustCa())).problems.join('\n'),
      /^dc:date:created .* is in the future$/,
    );
  });

  it('refuses a list signed under another CA', async () => {
    const stranger = otherCa.issue('stranger', '/C=DE/O=Elsewhere/CN=Stranger');
    const { problems } = await verifyImageList(handSign(listFor(stranger), stranger), trustCa());
    assert.deepEqual(problems, [
      'signer certificate /C=DE/O=Elsewhere/CN=Stranger (issuer /C=DE/O=Elsewhere/CN=Other CA): unable to get local issuer certificate: it was not issued by the trusted CA',
    ]);
  });

  it('refuses a revoked signer when given the CRL', async () => {
    const message = handSign(listFor(revoked), revoked);
    assert.deepEqual((await verifyImageList(message, trustCa())).problems, [], 'no CRL given: not checked');
    const { problems } = await verifyImageList(message, trustCa({ crlFile: crlPath }));
    assert.deepEqual(problems, [
      'signer certificate /C=DE/O=GermanGrid/OU=Imagecast/CN=Revoked Endorser (issuer /C=DE/O=GermanGrid/CN=Imagecast Test CA): certificate revoked: it is in the CRL',
    ]);
  });

  it('with a CA directory, checks the CRLs fetch-crl keeps there (<hash>.r0)', async () => {
    const caPath = join(dir, 'capath-with-crl');
    mkdirSync(caPath);
    const hash = opensslRun(['x509', '-in', ca.certPath, '-noout', '-subject_hash']).trim();
    writeFileSync(join(caPath, `${hash}.0`), readFileSync(ca.certPath));
    writeFileSync(join(caPath, `${hash}.r0`), readFileSync(crlPath));
    const options = { caPath, now: new Date() };
    assert.deepEqual((await verifyImageList(handSign(listFor(endorser), endorser), options)).problems, []);
    assert.match(
      (await verifyImageList(handSign(listFor(revoked), revoked), options)).problems.join('\n'),
      /certificate revoked: it is in the CRL$/,
    );
  });

  it('refuses a CRL that is out of date', async () => {
    const later = new Date(Date.now() + 8 * DAY); // default_crl_days = 7; the list itself expires in 7 days too
    const { problems } = await verifyImageList(
      handSign(listFor(endorser), endorser),
      trustCa({ crlFile: crlPath, now: later }),
    );
    assert.ok(
      problems.some((p) => /CRL has expired/.test(p)),
      problems.join('\n'),
    );
  });

  it("refuses hv:dn or hv:ca that are not the signer's", async () => {
    const text = listFor(endorser, (b) => {
      const x509 = (b['hv:endorser'] as { 'hv:x509': Record<string, string> })['hv:x509'];
      x509['hv:dn'] = 'CN=Imagecast Test Endorser,OU=Imagecast,O=GermanGrid,C=DE'; // RFC 4514, the classic mistake
    });
    const { problems } = await verifyImageList(handSign(text, endorser), trustCa());
    assert.deepEqual(problems, [
      'hv:imagelist.hv:endorser.hv:x509.hv:dn: expected a DN in OpenSSL one-line form such as /C=DE/O=GermanGrid/CN=Name',
      `hv:endorser.hv:x509.hv:dn is "CN=Imagecast Test Endorser,OU=Imagecast,O=GermanGrid,C=DE" but the list was signed by "${ENDORSER_DN}"`,
    ]);
    const wrongCa = listFor(
      endorser,
      (b) =>
        ((b['hv:endorser'] as { 'hv:x509': Record<string, string> })['hv:x509']['hv:ca'] =
          '/C=DE/O=GermanGrid/CN=GridKa-CA'),
    );
    assert.deepEqual((await verifyImageList(handSign(wrongCa, endorser), trustCa())).problems, [
      `hv:endorser.hv:x509.hv:ca is "/C=DE/O=GermanGrid/CN=GridKa-CA" but the signer was issued by "${ca.dn}"`,
    ]);
  });

  it('refuses a list missing a required key, naming it', async () => {
    const text = listFor(endorser, (b) => {
      delete b['dc:source'];
      const image = (b['hv:images'] as Array<{ 'hv:image': Record<string, unknown> }>)[0]!['hv:image'];
      delete image['sl:osversion'];
    });
    assert.deepEqual((await verifyImageList(handSign(text, endorser), trustCa())).problems, [
      'hv:imagelist.dc:source: required',
      'hv:imagelist.hv:images[0].hv:image.sl:osversion: required',
    ]);
  });

  it('refuses the wrong identifier and a version going backwards (as vmcatcher sorts), warns on the same version', async () => {
    const message = handSign(listFor(endorser), endorser); // version 0.0.10
    const backwards = await verifyImageList(
      message,
      trustCa({ previousVersion: '0.0.11', identifier: '00000000-0000-4000-8000-000000000000' }),
    );
    assert.deepEqual(backwards.problems, [
      'dc:identifier is 3a7b9c2e-5d41-4f8a-9b6e-1c2d3e4f5a6b, not the subscribed 00000000-0000-4000-8000-000000000000',
      'hv:version 0.0.10 is older than the previous version 0.0.11',
    ]);
    assert.deepEqual(
      (await verifyImageList(message, trustCa({ previousVersion: '0.0.9' }))).problems,
      [],
      '0.0.9 → 0.0.10 is newer',
    );
    const same = await verifyImageList(message, trustCa({ previousVersion: '0.0.10' }));
    assert.deepEqual(
      [same.problems, same.warnings],
      [[], ['hv:version 0.0.10 is the same as the previous version']],
    );
  });

  it('refuses an image file whose size or sha512 differ, and a missing file', async () => {
    const text = listFor(endorser, (b) => {
      const images = b['hv:images'] as Array<{ 'hv:image': Record<string, unknown> }>;
      images[0]!['hv:image']['hv:size'] = imageBytes.length + 1;
      images[0]!['hv:image']['sl:checksum:sha512'] = 'ab'.repeat(64);
      images.push({
        'hv:image': {
          ...images[0]!['hv:image'],
          'dc:identifier': '1188b565-2892-41c8-94c0-2e8a1c515ee9',
          'hv:uri': 'https://images.example.org/missing.raw',
        },
      });
    });
    const { problems } = await verifyImageList(handSign(text, endorser), trustCa({ imagesDir }));
    assert.equal(problems.length, 3, problems.join('\n'));
    assert.match(
      problems[0]!,
      /^image 0 \(0088b565-.*\): .*alpine-3\.20-x86_64\.qcow2 has 38000 bytes, hv:size says 38001$/,
    );
    assert.match(
      problems[1]!,
      /^image 0 .*: the sha512 of .* is [0-9a-f]{128}, sl:checksum:sha512 says (ab){64}$/,
    );
    assert.match(
      problems[2]!,
      /^image 1 .*: no file missing\.raw or 1188b565-2892-41c8-94c0-2e8a1c515ee9 in /,
    );
  });

  it('lists several problems at once, each on its own line', async () => {
    const text = listFor(endorser, (b) => {
      b['dc:date:expires'] = '2026-01-29T00:00:00.000Z';
      b['hv:version'] = '0.0.1';
    });
    const { problems } = await verifyImageList(
      handSign(text, revoked),
      trustCa({ crlFile: crlPath, previousVersion: '0.0.2' }),
    );
    assert.equal(problems.length, 4, problems.join('\n'));
    assert.match(problems[0]!, /^signer certificate .*CN=Revoked Endorser .*: certificate revoked/);
    assert.match(problems[1]!, /^hv:imagelist\.dc:date:expires: expected a UTC date/);
    assert.match(problems[2]!, /^hv:endorser\.hv:x509\.hv:dn is /);
    assert.match(problems[3]!, /^hv:version 0\.0\.1 is older than the previous version 0\.0\.2$/);
    assert.ok(problems.every((p) => !p.includes('\n')));
  });

  it('refuses the wrong S/MIME forms vmcatcher cannot read: unsigned, opaque (-nodetach), text mode', async () => {
    const text = listFor(endorser);
    assert.deepEqual((await verifyImageList(Buffer.from(text), trustCa())).problems, [
      'the list is not signed: this is plain JSON, not an S/MIME message',
    ]);
    assert.match(
      (await verifyImageList(handSign(text, endorser, ['-nodetach']), trustCa())).problems[0]!,
      /opaque S\/MIME message/,
    );
    assert.match(
      (await verifyImageList(handSign(text, endorser, ['-text']), trustCa())).problems.join('\n'),
      /signed in text mode/,
    );
  });
});
