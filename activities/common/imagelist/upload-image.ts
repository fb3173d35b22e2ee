// vmcaster's --upload-image: an image file streamed to where its hv:uri is served from (the
// same uri_match/uri_replace mapping as the list), its size and sha512 taken from that one
// read and stored as the image's hv:size and sl:checksum:sha512. The list is not published:
// `publish` signs the new figures.
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { Transform } from 'node:stream';
import { ImageListInputError, ImageListNotFoundError } from './store-errors.js';
import type { ImageListStore } from './list-store.js';
import type { ImageListPublisher } from './publish-target.js';

/** What a web server sends an image file as: its bytes, read as they are. */
const IMAGE_CONTENT_TYPE = 'application/octet-stream';

export interface UploadImageInput {
  lists: ImageListStore;
  identifier: string;
  imageId: string;
  /** The image file exactly as it is to be served (compressed if it is served compressed). */
  file: string;
  target(publicUri: string): { uri: string; publisher: ImageListPublisher };
}

export interface UploadedImage {
  identifier: string;
  imageId: string;
  uri: string;
  target: string;
  size: number;
  sha512: string;
}

export async function uploadImageFile(input: UploadImageInput): Promise<UploadedImage> {
  const list = await input.lists.get(input.identifier);
  const image = list.images.find((i) => i['dc:identifier'] === input.imageId);
  if (!image)
    throw new ImageListNotFoundError(
      'image',
      input.imageId,
      list.images.map((i) => String(i['dc:identifier'])),
      ` in list ${list.identifier}`,
    );
  const uri = String(image['hv:uri']);
  const target = input.target(uri);
  const info = await stat(input.file).catch((error: NodeJS.ErrnoException) => {
    throw new ImageListInputError([`FILE: cannot read ${input.file}: ${error.code ?? error.message}`]);
  });
  if (!info.isFile()) throw new ImageListInputError([`FILE: ${input.file} is not a file`]);
  const hash = createHash('sha512');
  let size = 0;
  const hashing = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      hash.update(chunk);
      size += chunk.length;
      done(null, chunk);
    },
  });
  const stream = createReadStream(input.file)
    .on('error', (error) => hashing.destroy(error))
    .pipe(hashing);
  await target.publisher.put(target.uri, { stream, sizeBytes: info.size }, IMAGE_CONTENT_TYPE);
  if (size !== info.size)
    throw new Error(
      `${input.file} changed while it was uploaded (${info.size} bytes, then ${size}); upload it again`,
    );
  const sha512 = hash.digest('hex');
  await input.lists.setImageKey(list.identifier, input.imageId, 'hv:size', String(size));
  await input.lists.setImageKey(list.identifier, input.imageId, 'sl:checksum:sha512', sha512);
  return { identifier: list.identifier, imageId: input.imageId, uri, target: target.uri, size, sha512 };
}
