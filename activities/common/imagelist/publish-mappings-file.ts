// The imagelist_publish mappings (vmcaster's uriMatch/uriReplace) from the config file the
// CLI reads too (IMAGECAST_CONFIG, else ~/.config/imagecast/config.json), for the worker,
// which publishes the lists releases change and renews lists: one file says where lists go.
import { existsSync, readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { imageListPublishSchema, type ImageListPublishMapping } from '../../../schemas/imagelist-publish.js';
import { keyPath } from '../../../schemas/imagelist.js';
import {
  PublishTargetError,
  publisherFor,
  uploadMapping,
  uploadTarget,
  type ImageListPublisher,
  type ObjectWritersByCloud,
} from './publish-target.js';

/** The config file's path: IMAGECAST_CONFIG, else the CLI's default. */
export function publishMappingsOrigin(env: NodeJS.ProcessEnv): string {
  return env.IMAGECAST_CONFIG || join(env.HOME ?? homedir(), '.config', 'imagecast', 'config.json');
}

/** The mappings and the file they came from; none when no file is named and the default one does not exist. */
export function publishMappingsFromEnv(env: NodeJS.ProcessEnv): {
  mappings: ImageListPublishMapping[];
  origin: string;
} {
  const origin = publishMappingsOrigin(env);
  if (!env.IMAGECAST_CONFIG && !existsSync(origin)) return { mappings: [], origin };
  let json: { imagelist_publish?: unknown };
  try {
    json = JSON.parse(readFileSync(origin, 'utf8')) as { imagelist_publish?: unknown };
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new Error(`config file ${origin}: ${code ? `cannot read it (${code})` : 'not valid JSON'}`);
  }
  const parsed = imageListPublishSchema.safeParse(json.imagelist_publish ?? []);
  if (!parsed.success) throw new Error(mappingProblems(`config file ${origin}`, parsed.error.issues));
  return { mappings: parsed.data, origin };
}

/** Read at each use, so an edited file applies to the next renewal without a worker restart. */
export async function readPublishMappingsFile(path: string): Promise<ImageListPublishMapping[]> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new PublishTargetError(
      `cannot read the imagelist_publish file ${path}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`,
    );
  }
  let file: unknown;
  try {
    file = JSON.parse(text);
  } catch (error) {
    throw new PublishTargetError(`${path} is not JSON: ${(error as Error).message}`);
  }
  const parsed = imageListPublishSchema.safeParse(
    (file as { imagelist_publish?: unknown } | null)?.imagelist_publish ?? [],
  );
  if (!parsed.success) throw new PublishTargetError(mappingProblems(path, parsed.error.issues));
  return parsed.data;
}

/** publishImageList's `target`: the upload URI and publisher for a list's hv:uri. */
export function targetsFrom(
  mappings: readonly ImageListPublishMapping[],
  origin: string,
  objectWriters?: ObjectWritersByCloud,
) {
  return (publicUri: string): { uri: string; publisher: ImageListPublisher } => {
    const uri = uploadTarget(publicUri, mappings, origin);
    return { uri, publisher: publisherFor(uri, uploadMapping(publicUri, mappings, origin), objectWriters) };
  };
}

/** "FILE: imagelist_publish[0].account: …; …": every problem of the mappings, by key. */
export function mappingProblems(
  where: string,
  issues: readonly { path: PropertyKey[]; message: string }[],
): string {
  return `${where}: ${issues
    .map(
      (i) =>
        `imagelist_publish${keyPath(i.path)
          .replace(/^\(the document\)$/, '')
          .replace(/^(?=\w)/, '.')}: ${i.message}`,
    )
    .join('; ')}`;
}
