// Signing a HEPiX image list the way vmcaster does: S/MIME multipart/signed, detached, the
// signer certificate included, no text mode, i.e. exactly `openssl smime -sign -signer CERT
// -inkey KEY -in list.json` (research note 2.1). Everything a subscriber would refuse is
// refused here first, each problem named.
import { checkImageList, type ImageList } from '../../../schemas/imagelist.js';
import {
  certificateProblems,
  readCertificate,
  readMatchingKey,
  writePrivateFile,
  type EndorserCertificate,
} from './endorser-certificate.js';
import { DEFAULT_LIFETIME_DAYS, listDates, parseHepixDate } from './hepix-date.js';
import { openssl, opensslReason, withTempDir } from './openssl-cli.js';

/** Signing was refused; `problems` says why, one line each. */
export class ImageListSignRefused extends Error {
  constructor(readonly problems: string[]) {
    super(`cannot sign the image list:\n${problems.map((p) => `  ${p}`).join('\n')}`);
    this.name = 'ImageListSignRefused';
  }
}

export interface SignInput {
  /** The list as given (JSON text). */
  listText: string;
  certificatePem: string | Buffer;
  keyPem: string | Buffer;
  now: Date;
  /** Days from now to dc:date:expires (default 28), capped at the certificate's expiry. */
  lifetimeDays?: number;
  /** Sign the list's own dates and bytes unchanged instead of setting created = now. */
  keepDates?: boolean;
}

export interface SignedImageList {
  /** The S/MIME message to publish. */
  smime: Buffer;
  /** The list that was signed (with the new dates unless keepDates). */
  list: ImageList;
  signer: { dn: string; ca: string };
  /** Things worth telling, such as the lifetime being shortened to the certificate's. */
  notes: string[];
}

export async function signImageList(input: SignInput): Promise<SignedImageList> {
  const problems: string[] = [];
  const notes: string[] = [];
  let doc: unknown;
  try {
    doc = JSON.parse(input.listText);
  } catch (error) {
    throw new ImageListSignRefused([
      `the list is not JSON: ${error instanceof Error ? error.message : String(error)}`,
    ]);
  }
  let cert: EndorserCertificate;
  try {
    cert = readCertificate(input.certificatePem);
  } catch (error) {
    throw new ImageListSignRefused([
      `certificate: cannot read it (${error instanceof Error ? error.message : String(error)})`,
    ]);
  }
  problems.push(...(await certificateProblems(cert, input.now)));
  const key = readMatchingKey(cert, input.keyPem);
  if ('problem' in key) problems.push(key.problem);

  let content = input.listText;
  const body = isObject(doc) ? doc['hv:imagelist'] : undefined;
  // An expired certificate is refused below; capping the dates at its expiry would only add
  // a confusing "expires before created".
  if (!input.keepDates && isObject(body) && input.now <= cert.notAfter) {
    const dates = listDates(input.now, input.lifetimeDays ?? DEFAULT_LIFETIME_DAYS, cert.notAfter);
    body['dc:date:created'] = dates.created;
    body['dc:date:expires'] = dates.expires;
    if (dates.cappedAtCertificate)
      notes.push(
        `dc:date:expires is ${dates.expires}, when the certificate expires (a later date would not verify)`,
      );
    // vmcaster writes indent=4; key order stays as given.
    content = `${JSON.stringify(doc, null, 4)}\n`;
  }

  const checked = checkImageList(doc);
  if (!checked.ok) problems.push(...checked.issues.map((i) => `${i.path}: ${i.message}`));
  else {
    const list = checked.list['hv:imagelist'];
    const x509 = list['hv:endorser']['hv:x509'];
    // Subscribers compare these strings exactly with the signer's names (vmcatcher error 12).
    if (x509['hv:dn'] !== cert.dn)
      problems.push(
        `hv:endorser.hv:x509.hv:dn is ${JSON.stringify(x509['hv:dn'])} but the certificate's subject is ${JSON.stringify(cert.dn)}`,
      );
    if (x509['hv:ca'] !== cert.ca)
      problems.push(
        `hv:endorser.hv:x509.hv:ca is ${JSON.stringify(x509['hv:ca'])} but the certificate's issuer is ${JSON.stringify(cert.ca)}`,
      );
    if (input.keepDates)
      problems.push(...keptDateProblems(list['dc:date:created'], list['dc:date:expires'], input.now, cert));
  }
  if (problems.length > 0 || !checked.ok || 'problem' in key) throw new ImageListSignRefused(problems);

  const smime = await withTempDir(async (dir) => {
    const certPath = await writePrivateFile(dir, 'signer.pem', cert.x509.toString());
    const keyPath = await writePrivateFile(
      dir,
      'signer.key',
      key.key.export({ type: 'pkcs8', format: 'pem' }),
    );
    const listPath = await writePrivateFile(dir, 'list.json', content);
    const run = await openssl(['smime', '-sign', '-signer', certPath, '-inkey', keyPath, '-in', listPath]);
    if (run.code !== 0) throw new Error(`openssl smime -sign failed: ${opensslReason(run.stderr)}`);
    return run.stdout;
  });
  return { smime, list: checked.list, signer: { dn: cert.dn, ca: cert.ca }, notes };
}

/** With --keep-dates the dates are the list's own: they must still make sense at signing time. */
function keptDateProblems(created: string, expires: string, now: Date, cert: EndorserCertificate): string[] {
  const problems: string[] = [];
  const createdAt = parseHepixDate(created)!;
  const expiresAt = parseHepixDate(expires)!;
  if (createdAt > now)
    problems.push(`dc:date:created ${created} is in the future; subscribers refuse the list until then`);
  if (expiresAt <= now) problems.push(`dc:date:expires ${expires} has passed`);
  if (expiresAt > cert.notAfter)
    problems.push(
      `dc:date:expires ${expires} is after the certificate expires; leave out --keep-dates to cap it`,
    );
  return problems;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
