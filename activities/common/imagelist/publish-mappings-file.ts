// Where a worker finds the upload targets of the lists it renews: a JSON file with an
// "imagelist_publish" key, the same key the CLI config file has (the CLI's file will do).
import { readFile } from 'node:fs/promises';
import { imageListPublishSchema, type ImageListPublishMapping } from '../../../schemas/imagelist-publish.js';
import { keyPath } from '../../../schemas/imagelist.js';
import {
  PublishTargetError,
  publisherFor,
  uploadMapping,
  uploadTarget,
  type ImageListPublisher,
} from './publish-target.js';

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
  if (!parsed.success)
    throw new PublishTargetError(
      `${path}: ${parsed.error.issues
        .map(
          (i) =>
            `imagelist_publish${keyPath(i.path)
              .replace(/^\(the document\)$/, '')
              .replace(/^(?=\w)/, '.')}: ${i.message}`,
        )
        .join('; ')}`,
    );
  return parsed.data;
}

/** publishImageList's `target`: the upload URI and publisher for a list's hv:uri. */
export function targetsFrom(mappings: readonly ImageListPublishMapping[], origin: string) {
  return (publicUri: string): { uri: string; publisher: ImageListPublisher } => {
    const uri = uploadTarget(publicUri, mappings, origin);
    return { uri, publisher: publisherFor(uri, uploadMapping(publicUri, mappings, origin)) };
  };
}
