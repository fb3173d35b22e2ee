import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { checkImageList, hepixDate } from '../../../../schemas/imagelist.js';
import { formatHepixDate, parseHepixDate } from '../../../../activities/common/imagelist/hepix-date.js';

// The tests below break the document in every way, so it is untyped on purpose.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
function validList(): Record<string, any> {
  return {
    'hv:imagelist': {
      'dc:date:created': '2026-12-02T19:40:40Z',
      'dc:date:expires': '2026-12-30T19:40:40Z',
      'dc:description': 'Images released by Imagecast',
      'dc:identifier': '3a7b9c2e-5d41-4f8a-9b6e-1c2d3e4f5a6b',
      'dc:source': 'imagecast.example.org',
      'dc:title': 'Imagecast images',
      'hv:version': '0.0.1',
      'hv:uri': 'https://images.example.org/imagecast/image.list',
      'hv:endorser': {
        'hv:x509': {
          'dc:creator': 'Imagecast Test Endorser',
          'hv:ca': '/C=DE/O=GermanGrid/CN=Imagecast Test CA',
          'hv:dn': '/C=DE/O=GermanGrid/OU=Imagecast/CN=Imagecast Test Endorser',
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
            'hv:size': 1048576,
            'sl:checksum:sha512': 'a'.repeat(128),
            'hv:version': '1.0.0',
            'hv:hypervisor': 'kvm',
            'sl:arch': 'x86_64',
            'sl:os': 'Linux',
            'sl:osversion': '3.20',
            'sl:comments': '',
            // AppDB's keys and keys of other namespaces pass through.
            'ad:mpuri': 'https://appdb.egi.eu/store/vm/image/0088b565/',
            'ad:group': 'General group',
            'hv:ram_minimum': 512,
            'dc:date:expires': '2027-06-01T00:00:00Z',
            'x:custom': { anything: true },
          },
        },
      ],
      'ad:vo': 'fedcloud.egi.eu',
    },
  };
}

const problemsOf = (doc: unknown) => {
  const checked = checkImageList(doc);
  return checked.ok ? [] : checked.issues.map((i) => `${i.path}: ${i.message}`);
};

describe('imagelist schema', () => {
  it('accepts a complete list, AppDB keys and unknown keys included, and keeps them', () => {
    const checked = checkImageList(validList());
    assert.ok(checked.ok);
    assert.deepEqual(checked.list['hv:imagelist']['hv:images'][0]!['hv:image']['x:custom'], {
      anything: true,
    });
  });

  it('names every missing required key of the list, the endorser and each image', () => {
    const doc = validList();
    delete doc['hv:imagelist']['hv:uri'];
    delete doc['hv:imagelist']['hv:endorser']['hv:x509']['hv:ca'];
    delete doc['hv:imagelist']['hv:images'][0]['hv:image']['hv:hypervisor'];
    assert.deepEqual(problemsOf(doc), [
      'hv:imagelist.hv:uri: required',
      'hv:imagelist.hv:endorser.hv:x509.hv:ca: required',
      'hv:imagelist.hv:images[0].hv:image.hv:hypervisor: required',
    ]);
    assert.deepEqual(problemsOf({}), ['hv:imagelist: required']);
  });

  it('wants hv:version as a string, one endorser object, an integer hv:size and lower-case sha512', () => {
    const doc = validList();
    const image = doc['hv:imagelist']['hv:images'][0]['hv:image'];
    doc['hv:imagelist']['hv:version'] = 2;
    doc['hv:imagelist']['hv:endorser'] = [doc['hv:imagelist']['hv:endorser']];
    image['hv:size'] = 10.5;
    image['sl:checksum:sha512'] = 'A'.repeat(128);
    image['hv:version'] = 1;
    assert.deepEqual(problemsOf(doc), [
      'hv:imagelist.hv:version: expected a string, got a number',
      'hv:imagelist.hv:endorser: expected one endorser object, not a list (vmcatcher refuses a list)',
      'hv:imagelist.hv:images[0].hv:image.hv:size: expected an integer, got a number',
      'hv:imagelist.hv:images[0].hv:image.sl:checksum:sha512: expected the sha512 as 128 lower-case hex digits',
      'hv:imagelist.hv:images[0].hv:image.hv:version: expected a string, got a number',
    ]);
  });

  it('wants UUIDs, http(s)/file URLs and DNs in one-line form', () => {
    const doc = validList();
    doc['hv:imagelist']['dc:identifier'] = 'my-list';
    doc['hv:imagelist']['hv:images'][0]['hv:image']['hv:uri'] = 'ftp://example.org/x.img';
    doc['hv:imagelist']['hv:endorser']['hv:x509']['hv:dn'] = 'CN=Endorser,O=GermanGrid,C=DE';
    assert.deepEqual(problemsOf(doc), [
      'hv:imagelist.dc:identifier: expected a UUID such as 3a7b9c2e-5d41-4f8a-9b6e-1c2d3e4f5a6b',
      'hv:imagelist.hv:endorser.hv:x509.hv:dn: expected a DN in OpenSSL one-line form such as /C=DE/O=GermanGrid/CN=Name',
      'hv:imagelist.hv:images[0].hv:image.hv:uri: expected an http, https or file URL',
    ]);
  });

  it('wants expires after created', () => {
    const doc = validList();
    doc['hv:imagelist']['dc:date:expires'] = doc['hv:imagelist']['dc:date:created'];
    assert.deepEqual(problemsOf(doc), ['hv:imagelist.dc:date:expires: must be later than dc:date:created']);
  });
});

describe('HEPiX dates', () => {
  const anyDate = fc.date({
    min: new Date('1970-01-01T00:00:00Z'),
    max: new Date('9999-12-31T23:59:59Z'),
    noInvalidDate: true,
  });
  const DATE_MESSAGE = 'expected a UTC date such as 2026-12-02T19:40:40Z (no milliseconds, no offset)';

  it('formats every date to the second, in the form the schema accepts, and reads it back', () => {
    fc.assert(
      fc.property(anyDate, (at) => {
        const text = formatHepixDate(at);
        assert.match(text, /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/);
        assert.ok(hepixDate.safeParse(text).success);
        assert.equal(parseHepixDate(text)!.getTime(), Math.floor(at.getTime() / 1000) * 1000);
      }),
    );
  });

  it('refuses milliseconds (toISOString), offsets, lower-case z and missing Z, with one message', () => {
    fc.assert(
      fc.property(
        anyDate,
        fc.integer({ min: 0, max: 999 }),
        fc.integer({ min: -14, max: 14 }),
        (at, ms, hours) => {
          const base = formatHepixDate(at).slice(0, -1);
          const offset = `${hours < 0 ? '-' : '+'}${String(Math.abs(hours)).padStart(2, '0')}:00`;
          for (const text of [
            `${base}.${String(ms).padStart(3, '0')}Z`,
            `${base}${offset}`,
            `${base}z`,
            base,
            at.toISOString(),
          ]) {
            const parsed = hepixDate.safeParse(text);
            assert.ok(!parsed.success, text);
            assert.deepEqual(
              parsed.error.issues.map((i) => i.message),
              [DATE_MESSAGE],
            );
            assert.equal(parseHepixDate(text), undefined);
          }
        },
      ),
    );
  });

  it('refuses dates that have the form but do not exist', () => {
    for (const text of ['2026-02-30T00:00:00Z', '2026-12-02T24:00:00Z', '2026-13-01T00:00:00Z']) {
      assert.deepEqual(
        hepixDate.safeParse(text).error?.issues.map((i) => i.message),
        ['not a real date and time'],
        text,
      );
    }
  });
});
