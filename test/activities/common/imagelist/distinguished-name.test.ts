import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { onelineDn } from '../../../../activities/common/imagelist/distinguished-name.js';
import { opensslRun } from '../../../support/openssl-ca.js';

const dir = mkdtempSync(join(tmpdir(), 'imagecast-dn-'));
after(() => rmSync(dir, { recursive: true, force: true }));

let n = 0;
/** A self-signed certificate with this subject (openssl -subj syntax, -multivalue-rdn). */
function certificate(subject: string): string {
  const path = join(dir, `c${n++}.pem`);
  opensslRun([
    'req',
    '-x509',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:P-256',
    '-nodes',
    '-keyout',
    `${path}.key`,
    '-out',
    path,
    '-days',
    '1',
    '-utf8',
    '-multivalue-rdn',
    '-subj',
    subject,
  ]);
  return path;
}

/** What vmcatcher's M2Crypto str(X509_Name) gives: X509_NAME_oneline, printed by `-nameopt compat`. */
const opensslOneline = (path: string, which: 'subject' | 'issuer') =>
  opensslRun(['x509', '-in', path, '-noout', `-${which}`, '-nameopt', 'compat'])
    .trim()
    .replace(/^(subject|issuer)=/, '');

describe('DN in OpenSSL one-line form from node:crypto X509Certificate', () => {
  const subjects: Record<string, string> = {
    'a grid certificate': '/C=DE/O=GermanGrid/OU=DESY/CN=Owen Synge',
    'an e-mail address': '/C=DE/O=GermanGrid/CN=Robot: Imagecast/emailAddress=imagecast@example.org',
    'RFC 2253 specials in values': '/O=a\\+b, c;d"e<f>g\\\\h/OU= lead#/OU=#hash /CN=x=y\\/z',
    'a multi-valued RDN': '/C=DE/O=GermanGrid/UID=jorg+CN=Jorg Endorser',
    'UTF-8 text': '/C=DE/O=Universität Göttingen/CN=uni ✓ é',
    'control characters': '/CN=ctl\x01x\x7fy/OU=tab\there',
    'an attribute without a short name (numeric OID)': '/1.2.3.4=opaque/CN=x',
  };
  for (const [what, subject] of Object.entries(subjects)) {
    it(`equals openssl x509 -nameopt compat for ${what}`, () => {
      const path = certificate(subject);
      const x509 = new X509Certificate(readFileSync(path));
      assert.equal(onelineDn(x509.subject), opensslOneline(path, 'subject'));
      assert.equal(onelineDn(x509.issuer), opensslOneline(path, 'issuer'));
    });
  }

  it("keeps certificate order (not RFC 4514's reversed order)", () => {
    const x509 = new X509Certificate(readFileSync(certificate('/C=DE/O=GermanGrid/CN=Test')));
    assert.equal(onelineDn(x509.subject), '/C=DE/O=GermanGrid/CN=Test');
  });
});
