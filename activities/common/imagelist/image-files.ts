// vmcatcher_cache's check of each downloaded image: sha512 hexdigest equal to
// sl:checksum:sha512 and the size equal to hv:size, over the file exactly as served.
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { ImageListImage } from '../../../schemas/imagelist.js';

/** The sha512 (lower-case hex) and size of a file, in one streaming read. */
export async function sha512OfFile(path: string): Promise<{ sha512: string; size: number }> {
  const hash = createHash('sha512');
  let size = 0;
  await pipeline(createReadStream(path), async function* (chunks: AsyncIterable<Buffer>) {
    for await (const chunk of chunks) {
      size += chunk.length;
      hash.update(chunk);
    }
  });
  return { sha512: hash.digest('hex'), size };
}

/** Where an image's file is in `dir`: named as the last segment of hv:uri, or (vmcatcher's cache) by dc:identifier. */
async function findImageFile(image: ImageListImage, dir: string): Promise<string | undefined> {
  const names = [decodeURIComponent(basename(new URL(image['hv:uri']).pathname)), image['dc:identifier']];
  for (const name of names) {
    if (!name) continue;
    const path = join(dir, name);
    if ((await stat(path).catch(() => undefined))?.isFile()) return path;
  }
  return undefined;
}

/** One line per image whose file is missing, or whose size or sha512 differ from the list. */
export async function imageFileProblems(
  images: ReadonlyArray<{ 'hv:image': ImageListImage }>,
  dir: string,
): Promise<string[]> {
  const problems: string[] = [];
  for (const [index, { 'hv:image': image }] of images.entries()) {
    const label = `image ${index} (${image['dc:identifier']}, ${image['dc:title']})`;
    const path = await findImageFile(image, dir);
    if (!path) {
      problems.push(
        `${label}: no file ${basename(new URL(image['hv:uri']).pathname)} or ${image['dc:identifier']} in ${dir}`,
      );
      continue;
    }
    const { sha512, size } = await sha512OfFile(path);
    if (size !== image['hv:size'])
      problems.push(`${label}: ${path} has ${size} bytes, hv:size says ${image['hv:size']}`);
    if (sha512 !== image['sl:checksum:sha512'])
      problems.push(
        `${label}: the sha512 of ${path} is ${sha512}, sl:checksum:sha512 says ${image['sl:checksum:sha512']}`,
      );
  }
  return problems;
}
