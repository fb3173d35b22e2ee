import type { CloudImage, CloudProvider } from '../provider.js';
import { deleteLocalDisk, deleteLocalImage, discardLocalReleaseArtifacts } from './cleanup.js';
import { createLocalImage } from './create.js';
import { deprecateLocalImage } from './deprecate.js';
import { preflightLocal } from './preflight.js';
import { publishLocalImage } from './publish.js';
import { completeLocalReplacement } from './replace.js';
import { replicateLocalImage } from './replicate.js';
import { adoptLocalReusable } from './reuse.js';
import { restoreLocalImage, withdrawLocalImage } from './revoke.js';
import { LocalStore } from './store.js';
import { openLocalDiskWriter } from './upload.js';
import { killRunVms, launchLocalTestInstance, localTestInstanceGone, resetLocalTestInstance, terminateLocalTestInstance } from './test-instances.js';

export { diskIdFor } from './upload.js';
export { imageIdFor } from './create.js';
export type { LocalDisk, LocalImage } from './store.js';

/**
 * The `local` cloud: a real cloud on this machine, needing no credentials. Regions are
 * directories, `<dataDir>/<account>/<region>/`; images are sparse raw disk files with JSON
 * metadata next to them. Several workers may share one `dataDir`: every write is a rename.
 */
export function createLocalCloud({ dataDir }: { dataDir: string }): CloudProvider {
  const store = new LocalStore(dataDir);
  return {
    cloud: 'local',
    openDiskWriter: (input) => openLocalDiskWriter(store, input),
    createImage: (input) => createLocalImage(store, input),
    replicateImage: (input) => replicateLocalImage(store, input),
    completeReplacement: (input) => completeLocalReplacement(store, input),
    publishImage: (input) => publishLocalImage(store, input),
    deprecateImage: (input) => deprecateLocalImage(store, input),
    async findImageByName(account, region, imageName): Promise<CloudImage | undefined> {
      const image = (await store.listImages(account, region)).find((i) => i.imageName === imageName);
      if (!image) return undefined;
      return {
        region,
        imageId: image.imageId,
        imageName: image.imageName,
        state: image.state,
        visibility: image.visibility,
        releaseToken: image.releaseToken,
      };
    },
    adoptReusable: (input) => adoptLocalReusable(store, input),
    deleteImage: (release, image) => deleteLocalImage(store, release, image),
    deleteDisk: (release, disk) => deleteLocalDisk(store, release, disk),
    async discardReleaseArtifacts(release, regions) {
      await killRunVms(dataDir, release);
      await discardLocalReleaseArtifacts(store, release, regions);
    },
    preflight: (input) => preflightLocal(store, input),
    launchTestInstance: (input) => launchLocalTestInstance(store, dataDir, input),
    rebootTestInstance: (release) => resetLocalTestInstance(dataDir, release),
    testInstanceGone: (release) => localTestInstanceGone(dataDir, release),
    terminateTestInstance: (release, instance) => terminateLocalTestInstance(dataDir, release, instance),
    withdrawImage: (input) => withdrawLocalImage(store, input),
    restoreImage: (input) => restoreLocalImage(store, input),
  };
}
