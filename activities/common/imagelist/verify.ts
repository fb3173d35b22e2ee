// A subscriber's checks of a signed HEPiX image list, as vmcatcher makes them (research note
// 2.3), each failure its own line so a person sees everything wrong at once:
//   the S/MIME form and signature, exactly one signer, the chain to the trusted CA (purpose
//   smimesign, and revocation when a CRL is given), the list's keys and types, hv:dn/hv:ca
//   equal to the signer's subject/issuer, the identifier, the dates, the version order and,
//   given a directory of the image files, each file's size and sha512.
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { checkImageList, type ImageList } from '../../../schemas/imagelist.js';
import { readCertificate, type EndorserCertificate } from './endorser-certificate.js';
import { parseHepixDate } from './hepix-date.js';
import { imageFileProblems } from './image-files.js';
import { openssl, opensslReason, withTempDir } from './openssl-cli.js';
import { compareVersions } from './version-order.js';

export interface VerifyOptions {
  /** The trusted CA certificates (PEM, one or more): `--ca`. */
  caFile?: string;
  /** A directory of hashed CA certificates (`openssl rehash`, /etc/grid-security/certificates): `--capath`. Its `<hash>.r0` CRLs are checked. */
  caPath?: string;
  /** A CRL (PEM) of the signer's CA: the signer must not be in it, and it must be current. */
  crlFile?: string;
  /** The subscription's identifier: dc:identifier must be it. */
  identifier?: string;
  /** The version the subscriber has: hv:version must not sort lower. */
  previousVersion?: string;
  /** A directory holding the image files (named as in hv:uri, or by dc:identifier). */
  imagesDir?: string;
  /** The URL the list was fetched from: hv:uri should be it (vmcatcher warns, then follows hv:uri next time). */
  fetchedFrom?: string;
  now: Date;
  /**
   * Check what the message itself says (its form, its signature, one signer, the keys, hv:dn
   * and hv:ca equal to the signer's names) but trust no CA and not the dates: for importing a
   * list of one's own, perhaps expired, into the store. Give no caFile or caPath then.
   */
  signatureOnly?: boolean;
}

export interface VerifyResult {
  /** Empty when the list is valid. */
  problems: string[];
  /** Not reasons to refuse, but worth knowing (vmcatcher warns about them too). */
  warnings: string[];
  /** The list, when its content could be read and matched the schema; trust it only when `problems` is empty. */
  list?: ImageList;
  signer?: { dn: string; ca: string };
}

export async function verifyImageList(message: Buffer, options: VerifyOptions): Promise<VerifyResult> {
  if (options.signatureOnly ? Boolean(options.caFile ?? options.caPath) : !options.caFile === !options.caPath)
    throw new Error('verifyImageList: give exactly one of caFile and caPath, or signatureOnly and neither');
  const problems: string[] = [];
  const warnings: string[] = [];
  const formProblem = smimeFormProblem(message);
  if (formProblem) return { problems: [formProblem], warnings };

  const opened = await withTempDir((dir) => openMessage(dir, message, options));
  problems.push(...opened.problems);
  if (!opened.content) return { problems, warnings };
  const signer = opened.signer ? { dn: opened.signer.dn, ca: opened.signer.ca } : undefined;

  const text = opened.content.toString('utf8');
  if (/^Content-Type:\s*text\/plain/i.test(text))
    problems.push(
      'the list was signed in text mode (openssl smime -sign -text): the signed content starts with a MIME header, which vmcatcher cannot read as JSON',
    );
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (error) {
    problems.push(
      `the signed content is not JSON: ${error instanceof Error ? error.message : String(error)}`,
    );
    return { problems, warnings, ...(signer && { signer }) };
  }
  const checked = checkImageList(doc);
  if (!checked.ok) problems.push(...checked.issues.map((i) => `${i.path}: ${i.message}`));
  // The checks below read the raw document, so one wrong key does not hide the others.
  const body = field(doc, 'hv:imagelist');
  const x509 = field(field(body, 'hv:endorser'), 'hv:x509');
  if (signer) problems.push(...identityProblems(x509, signer));
  problems.push(...contentProblems(body, options, warnings));
  if (options.imagesDir && checked.ok)
    problems.push(...(await imageFileProblems(checked.list['hv:imagelist']['hv:images'], options.imagesDir)));
  return { problems, warnings, ...(checked.ok && { list: checked.list }), ...(signer && { signer }) };
}

/** vmcatcher reads only clear-signed multipart/signed messages (research note 2.1). */
function smimeFormProblem(message: Buffer): string | undefined {
  const head = message.subarray(0, 4096).toString('latin1');
  const headers = head.split(/\r?\n\r?\n/, 1)[0] ?? '';
  const type = /^Content-Type:\s*([^;\s]+)/im.exec(headers)?.[1]?.toLowerCase();
  if (type === 'multipart/signed') return undefined;
  if (type === 'application/pkcs7-mime' || type === 'application/x-pkcs7-mime')
    return 'the list is an opaque S/MIME message (signed with -nodetach): vmcatcher needs a clear-signed multipart/signed one';
  if (/^\s*[{[]/.test(head)) return 'the list is not signed: this is plain JSON, not an S/MIME message';
  return `not an S/MIME multipart/signed message (Content-Type: ${type ?? 'none'})`;
}

interface Opened {
  problems: string[];
  content?: Buffer;
  signer?: EndorserCertificate;
}

/** The signature, the signer and its chain, by openssl; and the signed content. */
async function openMessage(dir: string, message: Buffer, options: VerifyOptions): Promise<Opened> {
  const problems: string[] = [];
  const [messagePath, signerPath, contentPath, p7Path, certsPath] = [
    'list.smime',
    'signer.pem',
    'content',
    'p7.pem',
    'certs.pem',
  ].map((n) => join(dir, n)) as [string, string, string, string, string];
  await writeFile(messagePath, message);
  // -noverify: the signature only; the chain is checked below by `openssl verify`, which
  // takes a CRL file and tells which link failed.
  const signature = await openssl([
    'smime',
    '-verify',
    '-noverify',
    '-in',
    messagePath,
    '-signer',
    signerPath,
    '-out',
    contentPath,
  ]);
  const content = await readFile(contentPath).catch(() => undefined);
  if (signature.code !== 0)
    problems.push(
      `signature: does not verify (${opensslReason(signature.stderr)}): the list was changed after signing, or is damaged`,
    );

  // Every certificate the message carries: the signer, and intermediates a chain may need.
  const p7 = await openssl(['smime', '-pk7out', '-in', messagePath, '-out', p7Path]);
  const certs =
    p7.code === 0 ? await openssl(['pkcs7', '-in', p7Path, '-print_certs', '-out', certsPath]) : p7;
  const carried = certs.code === 0 ? pemBlocks(await readFile(certsPath, 'utf8')) : [];
  if (certs.code !== 0)
    problems.push(`signature: cannot read the certificates in the message (${opensslReason(certs.stderr)})`);

  const signers =
    signature.code === 0
      ? pemBlocks(await readFile(signerPath, 'utf8'))
      : carried.length === 1
        ? carried
        : [];
  if (signature.code === 0 && signers.length !== 1)
    problems.push(`signature: has ${signers.length} signers; subscribers accept exactly one`);
  if (signature.code === 0 && carried.length === 0)
    problems.push('signature: the signer certificate is not included (signed with -nocerts)');
  const signerPem = signers[0];
  if (!signerPem) return { problems, ...(content && { content }) };
  const signer = readCertificate(signerPem);
  await writeFile(signerPath, signerPem);
  if (!options.signatureOnly)
    problems.push(...(await chainProblems(signerPath, certsPath, carried.length > 1, signer, options)));
  return { problems, signer, ...(content && { content }) };
}

/** `openssl verify` of the signer against only the CA given (not the system's store). */
async function chainProblems(
  signerPath: string,
  certsPath: string,
  hasOthers: boolean,
  signer: EndorserCertificate,
  options: VerifyOptions,
): Promise<string[]> {
  const trust = options.caFile
    ? ['-CAfile', options.caFile, '-no-CApath', '-no-CAstore']
    : ['-CApath', options.caPath!, '-no-CAfile', '-no-CAstore'];
  // A CA directory kept by fetch-crl holds each CA's CRL as <hash>.r0, which openssl finds
  // itself; vmcatcher then refuses a signer whose CA has no current CRL, and so do we.
  const crl = options.crlFile
    ? ['-crl_check', '-CRLfile', options.crlFile]
    : options.caPath && (await holdsCrls(options.caPath))
      ? ['-crl_check']
      : [];
  const untrusted = hasOthers ? ['-untrusted', certsPath] : [];
  const attime = ['-attime', String(Math.floor(options.now.getTime() / 1000))];
  const run = await openssl([
    'verify',
    '-purpose',
    'smimesign',
    ...attime,
    ...trust,
    ...crl,
    ...untrusted,
    signerPath,
  ]);
  if (run.code === 0) return [];
  // "error 23 at 0 depth lookup: certificate revoked", one line per failed check.
  const errors = [
    ...(run.stdout.toString('utf8') + run.stderr).matchAll(/error (\d+) at (\d+) depth lookup: ([^\n]+)/g),
  ];
  const reasons = [...new Set(errors.map((m) => m[3]!.trim()))];
  if (reasons.length === 0) reasons.push(opensslReason(run.stderr));
  return reasons.map(
    (reason) => `signer certificate ${signer.dn} (issuer ${signer.ca}): ${chainWords(reason)}`,
  );
}

async function holdsCrls(dir: string): Promise<boolean> {
  const names = await readdir(dir).catch(() => []);
  return names.some((name) => /^[0-9a-f]{8}\.r\d+$/.test(name));
}

/** openssl's words, with what they mean for a list. */
function chainWords(reason: string): string {
  if (/unable to get (local )?issuer certificate|self.signed certificate in certificate chain/.test(reason))
    return `${reason}: it was not issued by the trusted CA`;
  if (/certificate revoked/.test(reason)) return `${reason}: it is in the CRL`;
  if (/unable to get certificate CRL/.test(reason))
    return `${reason}: the CRL given is not the signer's CA's`;
  return reason;
}

/** hv:dn and hv:ca are compared as exact strings with the signer's names (vmcatcher error 12). */
function identityProblems(x509: unknown, signer: { dn: string; ca: string }): string[] {
  const problems: string[] = [];
  const dn = field(x509, 'hv:dn');
  const ca = field(x509, 'hv:ca');
  if (typeof dn === 'string' && dn !== signer.dn)
    problems.push(
      `hv:endorser.hv:x509.hv:dn is ${JSON.stringify(dn)} but the list was signed by ${JSON.stringify(signer.dn)}`,
    );
  if (typeof ca === 'string' && ca !== signer.ca)
    problems.push(
      `hv:endorser.hv:x509.hv:ca is ${JSON.stringify(ca)} but the signer was issued by ${JSON.stringify(signer.ca)}`,
    );
  return problems;
}

/** Identifier, dates and version, where the list has them in a readable form. */
function contentProblems(body: unknown, options: VerifyOptions, warnings: string[]): string[] {
  const problems: string[] = [];
  const identifier = field(body, 'dc:identifier');
  if (options.identifier !== undefined && typeof identifier === 'string' && identifier !== options.identifier)
    problems.push(`dc:identifier is ${identifier}, not the subscribed ${options.identifier}`);
  const created = parseHepixDate(String(field(body, 'dc:date:created')));
  const expires = parseHepixDate(String(field(body, 'dc:date:expires')));
  if (options.signatureOnly) return problems;
  if (created && created > options.now)
    problems.push(`dc:date:created ${String(field(body, 'dc:date:created'))} is in the future`);
  if (expires && expires < options.now)
    problems.push(`the list expired at ${String(field(body, 'dc:date:expires'))}`);
  const uri = field(body, 'hv:uri');
  if (options.fetchedFrom !== undefined && typeof uri === 'string' && uri !== options.fetchedFrom)
    warnings.push(
      `hv:uri is ${uri}, not ${options.fetchedFrom} where the list was fetched: subscribers fetch the next version from hv:uri`,
    );
  const version = field(body, 'hv:version');
  if (options.previousVersion !== undefined && typeof version === 'string') {
    const order = compareVersions(options.previousVersion, version);
    if (order < 0)
      problems.push(`hv:version ${version} is older than the previous version ${options.previousVersion}`);
    if (order === 0) warnings.push(`hv:version ${version} is the same as the previous version`);
  }
  return problems;
}

function field(value: unknown, key: string): unknown {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
    ? (value as Record<string, unknown>)[key]
    : undefined;
}

function pemBlocks(text: string): string[] {
  return text.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----\n?/g) ?? [];
}
