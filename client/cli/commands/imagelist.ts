import { readFile, stat, writeFile } from 'node:fs/promises';
import { Option, type Command } from 'commander';
import { signImageList } from '../../../activities/common/imagelist/sign.js';
import { verifyImageList } from '../../../activities/common/imagelist/verify.js';
import { readCertificate } from '../../../activities/common/imagelist/endorser-certificate.js';
import { imageListTemplate } from '../../../activities/common/imagelist/template.js';
import { DEFAULT_LIFETIME_DAYS } from '../../../activities/common/imagelist/hepix-date.js';
import { runCommand } from '../command-output.js';
import { EXIT_FAILURE, EXIT_OK } from '../exit-codes.js';
import { positiveInteger } from '../option-parsers.js';
import { UsageError } from '../store-connection.js';
import { registerEndorser } from './imagelist-endorser.js';
import { registerLists } from './imagelist-lists.js';
import { registerPublish } from './imagelist-publish.js';
import { registerRenewal } from './imagelist-renew.js';
import { registerImageUpload } from './imagelist-image-upload.js';

/**
 * `imagecast imagelist sign|verify|template`: HEPiX image lists (vmcaster's format) for anyone's
 * lists, without a server or database; and the lists Imagecast keeps in PostgreSQL and
 * publishes (endorser, add, image, publish, …). docs/imagelists.md walks through them.
 */
export function register(program: Command): void {
  const imagelist = program
    .command('imagelist')
    .description('signed HEPiX image lists, as vmcaster publishes and vmcatcher verifies them')
    .addHelpText(
      'after',
      `\nNeeds the openssl command (or IMAGECAST_OPENSSL naming it). The stored lists (endorser, add, list, show,\ndelete, set, unset, image, import, export, publish) need IMAGECAST_DATABASE_URL; endorser add, publish\nand export --signed also the master key (IMAGECAST_MASTER_KEY or IMAGECAST_MASTER_KEYS_FILE), which also\nopens the stored cloud account of an s3://, gs:// or azure-blob:// publish target. renew and schedule ask\nthe workers, through Temporal, to renew the published lists before they expire.\n\nExample:\n  imagecast imagelist verify https://images.example.org/image.list --capath /etc/grid-security/certificates`,
    );
  registerSign(imagelist);
  registerVerify(imagelist);
  registerTemplate(imagelist);
  // Lists kept in PostgreSQL and published from there (vmcaster's verbs).
  registerEndorser(imagelist);
  registerLists(imagelist);
  registerPublish(imagelist);
  registerRenewal(imagelist);
  registerImageUpload(imagelist);
}

function registerSign(imagelist: Command): void {
  imagelist
    .command('sign')
    .description(
      'sign a list as S/MIME (what `openssl smime -sign` makes), after checking the list and the certificate',
    )
    .argument('<file>', 'the image list (JSON), or - for stdin')
    .requiredOption('--cert <file>', 'the endorser certificate (PEM): keyUsage digitalSignature, valid now')
    .requiredOption('--key <file>', "the certificate's private key (PEM, unencrypted)")
    .option('--out <file>', 'write the signed list here instead of stdout')
    .option(
      '--lifetime <days>',
      `days until dc:date:expires (capped at the certificate's expiry)`,
      positiveInteger(DEFAULT_LIFETIME_DAYS),
      DEFAULT_LIFETIME_DAYS,
    )
    .addOption(
      new Option('--keep-dates', "sign the list's own dc:date:created/expires and bytes unchanged").conflicts(
        'lifetime',
      ),
    )
    .option(
      '--json',
      'print JSON: {"out", "signer", "created", "expires", "version", "notes", "smime" (without --out)}',
    )
    .addHelpText(
      'after',
      `
Sets dc:date:created to now and dc:date:expires to now + --lifetime days (default ${DEFAULT_LIFETIME_DAYS}), as vmcaster
does on every upload. hv:endorser.hv:x509's hv:dn and hv:ca must be the certificate's subject and issuer
in OpenSSL's one-line form (imagecast imagelist template writes them for you).
Exit codes: 0 signed, 2 refused (every problem listed) or bad usage.

Example:
  imagecast imagelist sign list.json --cert endorser.pem --key endorser.key --out image.list`,
    )
    .action((file: string, flags: SignFlags) => runCommand(flags, () => sign(file, flags)));
}

interface SignFlags {
  cert: string;
  key: string;
  out?: string;
  lifetime: number;
  keepDates?: boolean;
  json?: boolean;
}

async function sign(file: string, flags: SignFlags): Promise<number> {
  const [listText, certificatePem, keyPem] = await Promise.all([
    readInput(file === '-' ? 0 : file, 'the list'),
    readInput(flags.cert, '--cert'),
    readInput(flags.key, '--key'),
  ]);
  const signed = await signImageList({
    listText: listText.toString('utf8'),
    certificatePem,
    keyPem,
    now: new Date(),
    lifetimeDays: flags.lifetime,
    keepDates: Boolean(flags.keepDates),
  });
  if (flags.out) await writeFile(flags.out, signed.smime);
  const body = signed.list['hv:imagelist'];
  for (const note of signed.notes) console.error(`note: ${note}`);
  if (flags.json) {
    console.log(
      JSON.stringify({
        out: flags.out ?? null,
        signer: signed.signer,
        identifier: body['dc:identifier'],
        version: body['hv:version'],
        created: body['dc:date:created'],
        expires: body['dc:date:expires'],
        notes: signed.notes,
        ...(!flags.out && { smime: signed.smime.toString('utf8') }),
      }),
    );
  } else if (flags.out)
    console.log(
      `signed ${body['dc:title']} (version ${body['hv:version']}, expires ${body['dc:date:expires']}) to ${flags.out}`,
    );
  else process.stdout.write(signed.smime);
  return EXIT_OK;
}

function registerVerify(imagelist: Command): void {
  imagelist
    .command('verify')
    .description('check a signed list as a subscriber (vmcatcher) does; every problem on its own line')
    .argument('<file|url>', 'the signed list: a file, an http(s) URL, or - for stdin')
    .addOption(new Option('--ca <file>', 'trust only these CA certificates (PEM)').conflicts('capath'))
    .option(
      '--capath <dir>',
      'trust the hashed CA certificates in this directory (e.g. /etc/grid-security/certificates)',
    )
    .option(
      '--crl <file>',
      "the CRL (PEM) of the signer's CA: refuse a revoked signer, or a CRL that is out of date",
    )
    .option('--identifier <uuid>', 'the subscribed list: dc:identifier must be this')
    .option(
      '--previous-version <version>',
      'the version you have: hv:version must not sort lower (as vmcatcher sorts)',
    )
    .option(
      '--images <dir>',
      'check each image file in this directory (named as in hv:uri, or by dc:identifier): size and sha512',
    )
    .option(
      '--json',
      'print JSON: {"valid", "problems", "warnings", "signer", "identifier", "version", "expires"}',
    )
    .addHelpText(
      'after',
      `
Exit codes: 0 valid, 1 invalid (problems on stdout, one a line), 2 bad usage or unreadable input.

Examples:
  imagecast imagelist verify image.list --ca ca.pem --crl ca.crl.pem
  imagecast imagelist verify https://images.example.org/image.list --capath /etc/grid-security/certificates \\
    --identifier 3a7b9c2e-5d41-4f8a-9b6e-1c2d3e4f5a6b --previous-version 0.0.7 --images ./cache`,
    )
    .action((source: string, flags: VerifyFlags) => runCommand(flags, () => verify(source, flags)));
}

interface VerifyFlags {
  ca?: string;
  capath?: string;
  crl?: string;
  identifier?: string;
  previousVersion?: string;
  images?: string;
  json?: boolean;
}

async function verify(source: string, flags: VerifyFlags): Promise<number> {
  if (!flags.ca && !flags.capath) throw new UsageError('give the trusted CA: --ca CA.pem or --capath DIR');
  // openssl would report a missing CA file as a problem of the list; it is one of the command.
  await mustExist(flags.ca, '--ca', 'file');
  await mustExist(flags.capath, '--capath', 'directory');
  await mustExist(flags.crl, '--crl', 'file');
  await mustExist(flags.images, '--images', 'directory');
  const isUrl = /^https?:\/\//i.test(source);
  const message = isUrl ? await download(source) : await readInput(source === '-' ? 0 : source, 'the list');
  const result = await verifyImageList(message, {
    ...(flags.ca && { caFile: flags.ca }),
    ...(flags.capath && { caPath: flags.capath }),
    ...(flags.crl && { crlFile: flags.crl }),
    ...(flags.identifier !== undefined && { identifier: flags.identifier }),
    ...(flags.previousVersion !== undefined && { previousVersion: flags.previousVersion }),
    ...(flags.images && { imagesDir: flags.images }),
    ...(isUrl && { fetchedFrom: source }),
    now: new Date(),
  });
  const body = result.list?.['hv:imagelist'];
  const valid = result.problems.length === 0;
  if (flags.json) {
    console.log(
      JSON.stringify({
        valid,
        problems: result.problems,
        warnings: result.warnings,
        signer: result.signer ?? null,
        identifier: body?.['dc:identifier'] ?? null,
        version: body?.['hv:version'] ?? null,
        expires: body?.['dc:date:expires'] ?? null,
      }),
    );
  } else {
    for (const warning of result.warnings) console.error(`warning: ${warning}`);
    if (valid && body)
      console.log(
        `valid: ${body['dc:title']} (${body['dc:identifier']}) version ${body['hv:version']}, ${body['hv:images'].length} image(s), signed by ${result.signer?.dn}, expires ${body['dc:date:expires']}`,
      );
    for (const problem of result.problems) console.log(problem);
    if (!valid)
      console.error(
        `imagecast: invalid image list (${result.problems.length} problem${result.problems.length === 1 ? '' : 's'})`,
      );
  }
  return valid ? EXIT_OK : EXIT_FAILURE;
}

function registerTemplate(imagelist: Command): void {
  imagelist
    .command('template')
    .description('print a valid, empty list whose endorser is the given certificate (a start for `sign`)')
    .requiredOption('--cert <file>', 'the endorser certificate (PEM) that will sign the list')
    .option('--title <text>', 'dc:title')
    .option('--uri <url>', 'hv:uri: where the list will be published')
    .option('--email <address>', "hv:email; default: the certificate's e-mail address")
    .option('--creator <name>', "dc:creator; default: the certificate's CN")
    .addHelpText(
      'after',
      '\nExample:\n  imagecast imagelist template --cert endorser.pem --uri https://images.example.org/image.list > list.json',
    )
    .action((flags: { cert: string; title?: string; uri?: string; email?: string; creator?: string }) =>
      runCommand({}, async () => {
        const { cert: certPath, ...fields } = flags;
        const pem = await readInput(certPath, '--cert');
        if (fields.uri !== undefined && !URL.canParse(fields.uri))
          throw new UsageError(`--uri: not a URL: ${fields.uri}`);
        let cert;
        try {
          cert = readCertificate(pem);
        } catch (error) {
          throw new UsageError(`--cert: not a PEM certificate: ${(error as Error).message}`);
        }
        const list = imageListTemplate({ cert, now: new Date(), ...fields });
        console.log(JSON.stringify(list, null, 4));
        return EXIT_OK;
      }),
    );
}

async function mustExist(path: string | undefined, flag: string, kind: 'file' | 'directory'): Promise<void> {
  if (path === undefined) return;
  const found = await stat(path).catch(() => undefined);
  if (!found) throw new UsageError(`${flag}: no such ${kind}: ${path}`);
  if (kind === 'file' ? !found.isFile() : !found.isDirectory())
    throw new UsageError(`${flag}: not a ${kind}: ${path}`);
}

/** A file's bytes (or stdin's, for 0); unreadable is a usage error (exit 2), named. */
async function readInput(path: string | 0, what: string): Promise<Buffer> {
  try {
    if (path !== 0) return await readFile(path);
    const chunks: Buffer[] = [];
    for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks);
  } catch (error) {
    throw new UsageError(
      `${what}: cannot read ${path === 0 ? 'stdin' : path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`,
    );
  }
}

async function download(url: string): Promise<Buffer> {
  const response = await fetch(url, { redirect: 'follow', signal: AbortSignal.timeout(60_000) });
  if (!response.ok) throw new Error(`cannot fetch ${url}: HTTP ${response.status} ${response.statusText}`);
  return Buffer.from(await response.arrayBuffer());
}
