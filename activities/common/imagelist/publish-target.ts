// Where a published list goes: its public hv:uri mapped to an upload target by vmcaster's
// uriMatch/uriReplace (schemas/imagelist-publish.ts), and a publisher per target scheme.
// `file:` (vmcaster's `local` protocol: the web server serves a directory on this machine),
// `sftp:` (publishers/sftp.ts, with the mapping's key and pinned host key), and the object
// stores `s3:`, `gs:` and `azure-blob:` (publishers/object-store.ts, through the clouds' object
// writers with the mapping's stored account). Lists are bytes; image files are streamed.
import { readFileSync } from 'node:fs';
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ImageListPublishMapping } from '../../../schemas/imagelist-publish.js';
import { OBJECT_STORE_CLOUD } from '../../../schemas/imagelist-publish.js';
import {
  putObject,
  type ObjectStoreScheme,
  type OpenObjectWriter,
  type PublishBody,
} from './publishers/object-store.js';
import { sftpPut } from './publishers/sftp.js';

export type { PublishBody } from './publishers/object-store.js';

/** Puts a signed list (or an image file, streamed) at a target URI, replacing what is there. */
export interface ImageListPublisher {
  put(targetUri: string, body: PublishBody, contentType: string): Promise<void>;
}

/** The object writer of a cloud (its CloudProvider's openObjectWriter), for the object-store targets. */
export type ObjectWritersByCloud = (
  cloud: (typeof OBJECT_STORE_CLOUD)[ObjectStoreScheme],
) => OpenObjectWriter;

/** No mapping fits, or the target's scheme has no publisher: says what would. */
export class PublishTargetError extends Error {
  override name = 'PublishTargetError';
}

/** vmcaster's `local` protocol: a file, written whole to a temporary name and renamed, so a subscriber never reads half a list. */
export const localPublisher: ImageListPublisher = {
  async put(targetUri, body) {
    const path = fileURLToPath(targetUri);
    if (targetUri.endsWith('/'))
      throw new PublishTargetError(`upload target ${targetUri} names a directory, not a file`);
    await mkdir(dirname(path), { recursive: true });
    const partial = join(dirname(path), `.${basename(path)}.${process.pid}.partial`);
    try {
      await writeFile(partial, Buffer.isBuffer(body) ? body : body.stream, { mode: 0o644 });
      await rename(partial, path);
    } catch (error) {
      await rm(partial, { force: true });
      throw new Error(
        `cannot write the list to ${path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`,
      );
    }
  },
};

/** Publishers by URL scheme (with its colon, as URL.protocol gives it). */
const PUBLISHERS: Record<string, ImageListPublisher> = { 'file:': localPublisher };

/** The upload target of a list published at `publicUri`: the longest matching uri_match, replaced. */
export function uploadTarget(
  publicUri: string,
  mappings: readonly ImageListPublishMapping[],
  configOrigin: string,
): string {
  const match = uploadMapping(publicUri, mappings, configOrigin);
  return match.uri_replace + publicUri.slice(match.uri_match.length);
}

/** The mapping that decides where `publicUri` is uploaded (and, for sftp, how to log in). */
export function uploadMapping(
  publicUri: string,
  mappings: readonly ImageListPublishMapping[],
  configOrigin: string,
): ImageListPublishMapping {
  const match = mappings
    .filter((m) => publicUri.startsWith(m.uri_match))
    .sort((a, b) => b.uri_match.length - a.uri_match.length)[0];
  if (!match)
    throw new PublishTargetError(
      `no upload target for hv:uri ${publicUri}: no "imagelist_publish" mapping in ${configOrigin} has a uri_match that begins it ` +
        `(mappings: ${mappings.map((m) => m.uri_match).join(', ') || 'none'}); add one such as ` +
        `{"imagelist_publish": [{"uri_match": "${new URL(publicUri).origin}/", "uri_replace": "file:///srv/www/lists/"}]}`,
    );
  return match;
}

/** The publisher for a target URI, or an error naming the schemes there are. */
export function publisherFor(
  targetUri: string,
  mapping?: ImageListPublishMapping,
  objectWriters?: ObjectWritersByCloud,
): ImageListPublisher {
  let scheme: string;
  try {
    scheme = new URL(targetUri).protocol;
  } catch {
    throw new PublishTargetError(
      `upload target ${JSON.stringify(targetUri)} is not a URL; uri_replace must give one, such as file:///srv/www/lists/`,
    );
  }
  if (scheme === 'sftp:') return sftpPublisher(targetUri, mapping);
  const objectStore = scheme.replace(/:$/, '');
  if (objectStore in OBJECT_STORE_CLOUD)
    return objectStorePublisher(targetUri, objectStore as ObjectStoreScheme, mapping, objectWriters);
  const publisher = PUBLISHERS[scheme];
  if (!publisher)
    throw new PublishTargetError(
      `cannot upload to ${targetUri}: no publisher for ${scheme.replace(/:$/, '')}; supported: ${Object.keys(
        PUBLISHERS,
      )
        .map((s) => `${s}//`)
        .join(', ')}, sftp://, s3://, gs://, azure-blob://`,
    );
  return publisher;
}

/** vmcaster's `sftp` protocol, logging in with the mapping's key to the host key it pins. */
function sftpPublisher(targetUri: string, mapping: ImageListPublishMapping | undefined): ImageListPublisher {
  const keyFile = mapping?.ssh_private_key_file;
  const hostKeyFingerprint = mapping?.ssh_host_key_fingerprint;
  if (!keyFile || !hostKeyFingerprint)
    throw new PublishTargetError(
      `cannot upload to ${targetUri}: an sftp target needs ssh_private_key_file and ssh_host_key_fingerprint in its imagelist_publish mapping`,
    );
  return {
    async put(uri, body) {
      let privateKey: string;
      try {
        privateKey = readFileSync(keyFile, 'utf8');
      } catch (error) {
        throw new PublishTargetError(
          `ssh_private_key_file: cannot read ${keyFile}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`,
        );
      }
      await sftpPut(uri, Buffer.isBuffer(body) ? body : body.stream, { privateKey, hostKeyFingerprint });
    },
  };
}

/** s3://, gs:// and azure-blob://, written with the mapping's stored account of that cloud. */
function objectStorePublisher(
  targetUri: string,
  scheme: ObjectStoreScheme,
  mapping: ImageListPublishMapping | undefined,
  objectWriters: ObjectWritersByCloud | undefined,
): ImageListPublisher {
  const account = mapping?.account;
  if (!account)
    throw new PublishTargetError(
      `cannot upload to ${targetUri}: a ${scheme}:// target needs "account" (a stored ${OBJECT_STORE_CLOUD[scheme]} account) in its imagelist_publish mapping`,
    );
  if (!objectWriters) throw new Error(`internal: no object writers to upload to ${targetUri}`);
  const openWriter = objectWriters(OBJECT_STORE_CLOUD[scheme]);
  return {
    async put(uri, body, contentType) {
      await putObject(openWriter, account, uri, body, contentType);
    },
  };
}
