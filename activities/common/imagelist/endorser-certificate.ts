// What makes a certificate fit to sign an image list, checked before signing so a person is
// told why instead of publishing a list every subscriber refuses.
import { createPrivateKey, X509Certificate, type KeyObject } from 'node:crypto';
import { onelineDn } from './distinguished-name.js';
import { openssl } from './openssl-cli.js';
import { join } from 'node:path';
import { writeFile } from 'node:fs/promises';
import { formatHepixDate } from './hepix-date.js';

/** OID of extendedKeyUsage emailProtection: S/MIME verification (purpose smimesign) needs it when an EKU is present. */
const EMAIL_PROTECTION = '1.3.6.1.5.5.7.3.4';
const ANY_EXTENDED_KEY_USAGE = '2.5.29.37.0';

export interface EndorserCertificate {
  x509: X509Certificate;
  /** Subject in OpenSSL one-line form: what hv:dn must be. */
  dn: string;
  /** Issuer in the same form: what hv:ca must be. */
  ca: string;
  notBefore: Date;
  notAfter: Date;
}

/** The certificate from PEM text, with its names in the form the list carries. */
export function readCertificate(pem: string | Buffer): EndorserCertificate {
  const x509 = new X509Certificate(pem);
  return {
    x509,
    dn: onelineDn(x509.subject),
    ca: onelineDn(x509.issuer),
    notBefore: new Date(x509.validFrom),
    notAfter: new Date(x509.validTo),
  };
}

/**
 * Whether the certificate has keyUsage digitalSignature. Node 20 does not expose keyUsage
 * (its `keyUsage` is the *extended* one), so we ask openssl, which prints the named bits.
 */
async function hasDigitalSignature(pem: string): Promise<boolean> {
  const run = await openssl(['x509', '-noout', '-ext', 'keyUsage'], pem);
  if (run.code !== 0) throw new Error(`openssl cannot read the certificate: ${run.stderr.trim()}`);
  const text = run.stdout.toString('utf8');
  return /X509v3 Key Usage/.test(text) && /Digital Signature/.test(text);
}

/** Every reason this certificate cannot sign a list at `now` (empty: it can). */
export async function certificateProblems(cert: EndorserCertificate, now: Date): Promise<string[]> {
  const problems: string[] = [];
  const pem = cert.x509.toString();
  if (!(await hasDigitalSignature(pem)))
    problems.push(
      `certificate ${cert.dn}: lacks the keyUsage digitalSignature (vmcaster refuses such a certificate and subscribers cannot verify its signature)`,
    );
  const eku = cert.x509.keyUsage; // extended key usage OIDs, undefined when the extension is absent
  if (eku && !eku.includes(EMAIL_PROTECTION) && !eku.includes(ANY_EXTENDED_KEY_USAGE))
    problems.push(
      `certificate ${cert.dn}: its extendedKeyUsage lacks emailProtection, so S/MIME verification (openssl purpose smimesign, as vmcatcher runs it) refuses it`,
    );
  if (now < cert.notBefore)
    problems.push(`certificate ${cert.dn}: not valid before ${formatHepixDate(cert.notBefore)}`);
  if (now > cert.notAfter)
    problems.push(`certificate ${cert.dn}: expired at ${formatHepixDate(cert.notAfter)}`);
  return problems;
}

/** The private key, or why it cannot be used with this certificate. */
export function readMatchingKey(
  cert: EndorserCertificate,
  keyPem: string | Buffer,
): { key: KeyObject } | { problem: string } {
  let key: KeyObject;
  try {
    key = createPrivateKey(keyPem);
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    if (/passphrase/i.test(message))
      return {
        problem:
          'private key: it is encrypted; give it unencrypted (openssl pkey -in KEY -out KEY.plain), readable only by you',
      };
    return { problem: `private key: cannot read it (${message})` };
  }
  if (!cert.x509.checkPrivateKey(key))
    return { problem: `private key: does not belong to the certificate ${cert.dn}` };
  return { key };
}

/** Writes PEM text to a file in `dir` (mode 0600: it may be a private key) and returns its path. */
export async function writePrivateFile(dir: string, name: string, text: string | Buffer): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, text, { mode: 0o600 });
  return path;
}
