// A throw-away certificate authority made with the openssl CLI, as a grid CA would be: a root,
// endorser certificates (with or without keyUsage digitalSignature, with chosen validity) and
// a CRL. `openssl ca` rather than `openssl x509 -req`, because only it sets start and end
// dates in the past and keeps the database a CRL is made from.
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface TestCa {
  dir: string;
  /** The CA certificate (PEM file). */
  certPath: string;
  /** Subject in one-line form. */
  dn: string;
  issue(name: string, subject: string, options?: IssueOptions): IssuedCert;
  revoke(cert: IssuedCert): void;
  /** Writes a CRL of everything revoked so far (PEM) and returns its path. */
  crl(name?: string): string;
}

export interface IssueOptions {
  /** keyUsage value; default `critical,digitalSignature`. */
  keyUsage?: string | null;
  /** extendedKeyUsage value; default `emailProtection`; null for none. */
  extendedKeyUsage?: string | null;
  /** `YYYYMMDDHHMMSSZ`; default now. */
  startDate?: string;
  /** `YYYYMMDDHHMMSSZ`; default a year from now. */
  endDate?: string;
}

export interface IssuedCert {
  certPath: string;
  keyPath: string;
}

export const opensslRun = (args: string[], cwd?: string): string =>
  execFileSync('openssl', args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });

/** `YYYYMMDDHHMMSSZ` for openssl ca's -startdate/-enddate. */
export function asn1Time(at: Date): string {
  return at
    .toISOString()
    .replace(/[-:T]/g, '')
    .replace(/\.\d{3}Z$/, 'Z');
}

export function makeTestCa(dir: string, subject = '/C=DE/O=GermanGrid/CN=Imagecast Test CA'): TestCa {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'index.txt'), '');
  writeFileSync(join(dir, 'serial'), '1000\n');
  writeFileSync(join(dir, 'crlnumber'), '1000\n');
  writeFileSync(
    join(dir, 'ca.cnf'),
    `[ca]
default_ca = test_ca
[test_ca]
dir = ${dir}
database = $dir/index.txt
serial = $dir/serial
crlnumber = $dir/crlnumber
new_certs_dir = $dir
certificate = $dir/ca.pem
private_key = $dir/ca.key
default_md = sha256
default_crl_days = 7
policy = anything
unique_subject = no
copy_extensions = none
[anything]
countryName = optional
organizationName = optional
organizationalUnitName = optional
commonName = supplied
emailAddress = optional
[req]
distinguished_name = dn
[dn]
`,
  );
  const certPath = join(dir, 'ca.pem');
  opensslRun(
    [
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-keyout',
      'ca.key',
      '-out',
      certPath,
      '-days',
      '3650',
      '-subj',
      subject,
      '-addext',
      'basicConstraints=critical,CA:TRUE',
      '-addext',
      'keyUsage=critical,keyCertSign,cRLSign',
    ],
    dir,
  );
  const config = join(dir, 'ca.cnf');
  return {
    dir,
    certPath,
    dn: subject,
    issue(name, certSubject, options = {}) {
      const keyPath = join(dir, `${name}.key`);
      const csrPath = join(dir, `${name}.csr`);
      const issued = join(dir, `${name}.pem`);
      opensslRun(
        [
          'req',
          '-new',
          '-newkey',
          'rsa:2048',
          '-nodes',
          '-keyout',
          keyPath,
          '-out',
          csrPath,
          '-subj',
          certSubject,
          '-config',
          config,
        ],
        dir,
      );
      const ext = [
        options.keyUsage === null ? '' : `keyUsage = ${options.keyUsage ?? 'critical,digitalSignature'}`,
        options.extendedKeyUsage === null
          ? ''
          : `extendedKeyUsage = ${options.extendedKeyUsage ?? 'emailProtection'}`,
        'basicConstraints = CA:FALSE',
      ].filter(Boolean);
      writeFileSync(join(dir, `${name}.ext`), `${ext.join('\n')}\n`);
      const now = new Date();
      opensslRun(
        [
          'ca',
          '-batch',
          '-notext',
          '-config',
          config,
          '-in',
          csrPath,
          '-out',
          issued,
          '-extfile',
          join(dir, `${name}.ext`),
          '-startdate',
          options.startDate ?? asn1Time(new Date(now.getTime() - 60_000)),
          '-enddate',
          options.endDate ?? asn1Time(new Date(now.getTime() + 365 * 86_400_000)),
        ],
        dir,
      );
      return { certPath: issued, keyPath };
    },
    revoke(cert) {
      opensslRun(['ca', '-batch', '-config', config, '-revoke', cert.certPath], dir);
    },
    crl(name = 'ca.crl.pem') {
      const path = join(dir, name);
      opensslRun(['ca', '-batch', '-config', config, '-gencrl', '-out', path], dir);
      return path;
    },
  };
}
