import { stat } from 'node:fs/promises';
import type { AdoptReusableInput, ImageRef, Reused, ReusableArtifacts, UploadedDisk } from '../provider.js';
import { writeJsonAtomically, type LocalImage, type LocalStore } from './store.js';

/**
 * A retry's head start on the local cloud: the uploaded disk (home region) and the images of
 * that name and checksum that the earlier runs left, re-tagged with this run's token (the
 * metadata's `releaseToken`), so this run's cleanup and saga remove them like its own.
 * Metadata is rewritten atomically; a repeat finds them adopted (`reusedFrom` set).
 */
export async function adoptLocalReusable(
  store: LocalStore,
  input: AdoptReusableInput,
): Promise<ReusableArtifacts> {
  const [home] = input.regions;
  const disk = home === undefined ? undefined : await adoptDisk(store, input, home);
  const images = (
    await Promise.all([...new Set(input.regions)].map((region) => adoptImage(store, input, region)))
  ).filter((i): i is Reused<ImageRef> => i !== undefined);
  return { ...(disk && { disk }), images };
}

/** Which earlier run made it, when this run may adopt it (or already did). */
function adoptableFrom(
  input: AdoptReusableInput,
  item: { releaseToken: string; reusedFrom?: string },
): string | undefined {
  if (input.earlierTokens.includes(item.releaseToken)) return item.releaseToken;
  return item.releaseToken === input.release.releaseToken ? item.reusedFrom : undefined;
}

async function adoptDisk(
  store: LocalStore,
  input: AdoptReusableInput,
  region: string,
): Promise<Reused<UploadedDisk> | undefined> {
  const { account } = input.release;
  for (const meta of await store.listDisks(account, region)) {
    if (meta.checksum.hex !== input.checksum.hex || meta.checksum.algorithm !== input.checksum.algorithm)
      continue;
    const from = adoptableFrom(input, meta);
    // Metadata without its disk file is a half-deleted disk: nothing to build on.
    if (!from || !(await stat(store.diskFile(account, region, meta.diskId)).catch(() => undefined))) continue;
    await writeJsonAtomically(store.diskJson(account, region, meta.diskId), {
      ...meta,
      releaseToken: input.release.releaseToken,
      reusedFrom: from,
    });
    const { diskId, sizeBytes, checksum } = meta;
    // Nothing was sent for this run: its upload wrote no bytes.
    return { region, diskId, sizeBytes, bytesWritten: 0, checksum, reusedFrom: from };
  }
  return undefined;
}

async function adoptImage(
  store: LocalStore,
  input: AdoptReusableInput,
  region: string,
): Promise<Reused<ImageRef> | undefined> {
  const { account } = input.release;
  const sum = `${input.checksum.algorithm}:${input.checksum.hex}`;
  const image = (await store.listImages(account, region)).find(
    (i) =>
      i.imageName === input.imageName &&
      i.checksum === sum &&
      i.state === 'available' &&
      adoptableFrom(input, i),
  );
  if (!image) return undefined;
  const from = adoptableFrom(input, image)!;
  const adopted: LocalImage = { ...image, releaseToken: input.release.releaseToken, reusedFrom: from };
  await store.writeImage(account, region, adopted);
  return { region, imageId: image.imageId, imageName: image.imageName, reusedFrom: from };
}
