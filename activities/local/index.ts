import type { CloudProvider } from '../provider.js';
import { deleteLocalDisk, deleteLocalImage, discardLocalReleaseArtifacts } from './cleanup.js';
import { createLocalImage } from './create.js';
import { deprecateLocalImage } from './deprecate.js';
import { publishLocalImage } from './publish.js';
import { replicateLocalImage } from './replicate.js';
import { LocalStore, safeSegment } from './store.js';
import { openLocalDiskWriter } from './upload.js';

/**
 * The `local` cloud: a real cloud on this machine. Regions are directories under `dataDir`,
 * images are raw disk files with JSON metadata. Needs no credentials.
 */
export function createLocalCloud({ dataDir }: { dataDir: string }): CloudProvider {
  const store = new LocalStore(dataDir);
  return {
    cloud: 'local',
    openDiskWriter: (input) => openLocalDiskWriter(store, input),
    createImage: (input) => createLocalImage(store, input),
    replicateImage: (input) => replicateLocalImage(store, input),
    publishImage: (input) => publishLocalImage(store, input),
    deprecateImage: (input) => deprecateLocalImage(store, input),
    async findImageByName(account, region, imageName) {
      const image = (await store.listImages(account, region)).find((i) => i.imageName === imageName);
      if (!image) return undefined;
      return {
        region: safeSegment('region', region),
        imageId: image.imageId,
        imageName: image.imageName,
        state: image.state,
        visibility: image.visibility,
        releaseToken: image.releaseToken,
      };
    },
    deleteImage: (release, image) => deleteLocalImage(store, release, image),
    deleteDisk: (release, disk) => deleteLocalDisk(store, release, disk),
    discardReleaseArtifacts: (release, regions) => discardLocalReleaseArtifacts(store, release, regions),
  };
}
