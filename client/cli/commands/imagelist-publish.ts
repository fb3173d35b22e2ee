import { readFile, writeFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { importImageList } from '../../../activities/common/imagelist/import-list.js';
import {
  exportImageListJson,
  exportImageListSigned,
  publishImageList,
} from '../../../activities/common/imagelist/publish-list.js';
import type {
  ImageListPublisher,
  ObjectWritersByCloud,
} from '../../../activities/common/imagelist/publish-target.js';
import { mappingProblems, targetsFrom } from '../../../activities/common/imagelist/publish-mappings-file.js';
import { withObjectWriters, OBJECT_STORE_ENVIRONMENT } from '../publish-object-writers.js';
import { imageListPublishSchema, type ImageListPublishMapping } from '../../../schemas/imagelist-publish.js';
import { configFilePath, readConfigFile } from '../client-config.js';
import { positiveInteger } from '../option-parsers.js';
import { runOnStores, storeCommand, type StoreFlags } from '../imagelist-stores.js';
import { UsageError } from '../store-connection.js';

/** `imagecast imagelist import|export|publish`: stored lists in and out, and published (vmcaster's --upload-imagelist). */
export function registerPublish(imagelist: Command): void {
  storeCommand(imagelist.command('publish'))
    .description(
      'bump hv:version, sign the list with its stored endorser and upload it to where its hv:uri is served from',
    )
    .argument('<id>', "the list's dc:identifier")
    .option(
      '--lifetime <days>',
      "days until dc:date:expires (default: the list's lifetime), capped at the certificate",
      positiveInteger(28),
    )
    .addHelpText(
      'after',
      `
As vmcaster: hv:version's last number goes up by one, dc:date:created is now, dc:date:expires now +
lifetime (never after the endorser certificate expires). A --lifetime is kept by the renewal schedule
and by releases that republish the list, until the next publish without it (which uses the list's
own lifetime) or until imagecast imagelist set ID lifetime DAYS changes that for good. The upload target comes from the CLI config
file (IMAGECAST_CONFIG, else ~/.config/imagecast/config.json): the "imagelist_publish" mapping whose
uri_match begins hv:uri, that prefix replaced by its uri_replace. Supported targets: file:// (local),
sftp://USER@HOST/PATH/ (with ssh_private_key_file and ssh_host_key_fingerprint), and s3://BUCKET/PREFIX/,
gs://BUCKET/PREFIX/, azure-blob://STORAGE_ACCOUNT/CONTAINER/PREFIX/ (with "account": a stored account
of that cloud, opened with the master key; emulators: ${OBJECT_STORE_ENVIRONMENT}).
  {"imagelist_publish": [{"uri_match": "https://lists.example.org/", "uri_replace": "file:///srv/www/lists/"}]}
  {"imagelist_publish": [{"uri_match": "https://lists.example.org/", "uri_replace": "s3://lists-bucket/", "account": "prod-aws"}]}
The signed list is also kept in the database: the gateway serves it at /imagelists/<uuid>.
The stored version changes only once the upload succeeded.
Exit codes: 0 published, 1 no such list or the upload failed, 2 refused (no mapping, unsupported
target, a certificate or list problem, each named) or bad usage.

Example:
  imagecast imagelist publish 3a7b9c2e-5d41-4f8a-9b6e-1c2d3e4f5a6b --lifetime 14`,
    )
    .action((id: string, flags: StoreFlags & { lifetime?: number }) =>
      runOnStores(
        flags,
        (stores) => {
          const mappings = publishMappings();
          return withObjectWriters(stores.pool, (objectWriters) =>
            publishImageList({
              ...stores,
              identifier: id,
              ...(flags.lifetime !== undefined && { lifetimeDays: flags.lifetime }),
              now: new Date(),
              target: (publicUri) => publishTarget(publicUri, mappings, objectWriters),
            }),
          );
        },
        (p) =>
          [
            `published ${JSON.stringify(p.title)} version ${p.version} (was ${p.previousVersion}), ${p.images} image(s), expires ${p.expires}, to ${p.target} (served at ${p.uri})`,
            ...p.notes.map((n) => `note: ${n}`),
          ].join('\n'),
      ),
    );

  storeCommand(imagelist.command('export'))
    .description('print a stored list as JSON, or signed now by its endorser (--signed); nothing changes')
    .argument('<id>', "the list's dc:identifier")
    .option('--signed', 'sign it (S/MIME, as publish does) with the dates of now, the version unchanged')
    .option('--out <file>', 'write it here instead of stdout')
    .addHelpText(
      'after',
      `
Unsigned, the list carries the dates of its last publication (or those a publication now would give).
--json prints {"identifier", "version", "signed", "out", "content"}.

Example:
  imagecast imagelist export 3a7b9c2e-5d41-4f8a-9b6e-1c2d3e4f5a6b --signed --out image.list`,
    )
    .action((id: string, flags: StoreFlags & { signed?: boolean; out?: string }) =>
      runOnStores(
        flags,
        async ({ lists, endorsers }) => {
          const now = new Date();
          const content = flags.signed
            ? (await exportImageListSigned(lists, endorsers, id, now)).smime.toString('utf8')
            : await exportImageListJson(lists, endorsers, id, now);
          if (flags.out) await writeFile(flags.out, content);
          const list = await lists.get(id);
          return {
            identifier: list.identifier,
            version: list.version,
            signed: Boolean(flags.signed),
            out: flags.out ?? null,
            content,
          };
        },
        (r) =>
          r.out
            ? `exported ${r.signed ? 'signed ' : ''}list ${r.identifier} version ${r.version} to ${r.out}`
            : r.content.replace(/\n$/, ''),
      ),
    );

  storeCommand(imagelist.command('import'))
    .description(
      'store a list from a file: JSON, or signed (S/MIME, e.g. made by vmcaster), whose signature is checked',
    )
    .argument('<file>', 'the list: JSON or S/MIME multipart/signed')
    .option('--ca <file>', "also check the signer's chain to this CA (PEM) and that the list has not expired")
    .option('--force', 'replace a stored list of a newer version')
    .addHelpText(
      'after',
      `
A signed list must have a signature that verifies, exactly one signer, and hv:dn/hv:ca equal to the
signer's subject/issuer. Its endorser must be stored (imagecast imagelist endorser add) so it can be
published again. A list already stored is replaced only by a version that does not sort lower.
Exit codes: 0 stored, 2 refused (every problem named) or bad usage.

Example:
  imagecast imagelist import image.list --ca ca.pem`,
    )
    .action((file: string, flags: StoreFlags & { ca?: string; force?: boolean }) =>
      runOnStores(
        flags,
        async (stores) =>
          importImageList({
            ...stores,
            content: await readBytes(file),
            ...(flags.ca !== undefined && { caFile: flags.ca }),
            force: Boolean(flags.force),
            now: new Date(),
          }),
        (r) =>
          [
            `${r.created ? 'imported' : `updated (was version ${r.previousVersion})`} ${r.signed ? 'signed ' : ''}list ${r.identifier} ${JSON.stringify(r.title)} version ${r.version}, ${r.images} image(s)`,
            ...r.notes.map((n) => `note: ${n}`),
          ].join('\n'),
      ),
    );
}

/** Where a public URI is uploaded, and the publisher that does it. */
export function publishTarget(
  publicUri: string,
  mappings: ImageListPublishMapping[],
  objectWriters: ObjectWritersByCloud,
): { uri: string; publisher: ImageListPublisher } {
  return targetsFrom(mappings, configFilePath().path, objectWriters)(publicUri);
}

/** The "imagelist_publish" mappings of the CLI config file, checked. */
export function publishMappings(): ImageListPublishMapping[] {
  const { path } = configFilePath();
  let file: Record<string, unknown>;
  try {
    file = readConfigFile(process.env);
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  const parsed = imageListPublishSchema.safeParse(file.imagelist_publish ?? []);
  if (!parsed.success) throw new UsageError(mappingProblems(`config file ${path}`, parsed.error.issues));
  return parsed.data;
}

async function readBytes(path: string): Promise<Buffer> {
  try {
    return await readFile(path);
  } catch (error) {
    throw new UsageError(
      `FILE: cannot read ${path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`,
    );
  }
}
