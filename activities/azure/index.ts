import { openAzureBlockWriter } from '../common/raw-upload/azure-block-writer.js';
import type { TokenCredential } from '@azure/core-auth';
import type { StorageSharedKeyCredential } from '@azure/storage-blob';
import type { AccountDirectory } from '../accounts/account-directory.js';
import { activityAttempt } from '../common/activity-heartbeat.js';
import type { CloudProvider, ReleaseRef, TestInstance } from '../provider.js';
import type { AzureImageOptions, CloudImageOptions } from '../../schemas/release-plan.js';
import { AzureSessions, type AzureClients } from './clients.js';
import {
  createGalleryVersions,
  deleteGalleryVersions,
  deprecateGalleryVersion,
  discardGalleryVersions,
  findGalleryVersion,
  replicateGalleryVersion,
} from './gallery.js';
import { checkCommunityGallery, shareGallery } from './gallery-sharing.js';
import type { LroSettings } from './lro.js';
import {
  createManagedImages,
  deleteManagedImages,
  deprecateManagedImage,
  discardManagedImages,
  findManagedImage,
} from './managed-images.js';
import { copyGroupOfBlob, discardCopySources, replicateManagedImage } from './managed-copy.js';
import { deletePageBlob, discardPageBlobs, openReleasePageBlob } from './page-blobs.js';
import { preflightAzure } from './preflight.js';
import { adoptAzureReusable } from './reuse.js';
import { restoreAzureImage, withdrawAzureImage } from './revoke.js';
import { azureOptions, parseArmId } from './tags.js';
import {
  azureTestInstanceGone,
  discardAzureTestGroups,
  launchAzureTestInstance,
  rebootAzureTestInstance,
  terminateAzureTestInstance,
} from './test-instances.js';

export interface AzureCloudOptions {
  accounts: AccountDirectory;
  /** A Resource Manager fake's root (`https://127.0.0.1:PORT`) and its CA; tests and the dev stack only. */
  armEndpoint?: string;
  armCaPem?: string;
  /** Blob endpoints of an emulator (Azurite); tests and the dev stack only. */
  blob?: {
    endpointFor(storageAccount: string): string;
    credentialFor(storageAccount: string): StorageSharedKeyCredential;
  };
  /** Between polls of operations and replication when Azure sends no Retry-After (Azure: seconds to minutes). */
  pollMs?: number;
}

/** A fake takes any bearer token; the SDK insists on sending one. */
const FAKE_CREDENTIAL: TokenCredential = {
  getToken: async () => ({ token: 'imagecast-fake-arm', expiresOnTimestamp: Date.now() + 3_600_000 }),
};

/**
 * Microsoft Azure behind the CloudProvider interface: the disk as a fixed-VHD page blob
 * (zero pages never sent), then mash's managed images, copied to each target region through
 * a snapshot (managed-copy.ts), or, with gallery_name, a Compute Gallery image version
 * replicated to every target region; a test VM in a throw-away
 * resource group; deprecation by end-of-life. Credentials never leave AzureSessions.
 */
export function createAzureCloud(options: AzureCloudOptions): CloudProvider {
  const emulator = Boolean(options.armEndpoint);
  const sessions = new AzureSessions(options.accounts, {
    ...(options.armEndpoint && { armEndpoint: options.armEndpoint, credential: FAKE_CREDENTIAL }),
    ...(options.armCaPem && { armCaPem: options.armCaPem }),
    ...(options.blob && { blob: options.blob }),
  });
  const lro: LroSettings = { pollMs: options.pollMs ?? 5_000 };
  const clients = (account: string) => sessions.forAccount(account);
  const isGallery = (
    o?: CloudImageOptions,
  ): o is AzureImageOptions & { gallery: NonNullable<AzureImageOptions['gallery']> } =>
    o?.cloud === 'azure' && o.gallery !== undefined;
  const resourceGroupOf = (c: AzureClients, o?: CloudImageOptions) =>
    o?.cloud === 'azure' ? o.resourceGroup : c.account.source_resource_group;
  const isGalleryId = (imageId: string) => parseArmId(imageId).type === 'galleries/images/versions';

  return {
    cloud: 'azure',
    async openObjectWriter(input) {
      const [storageAccount, container] = input.bucket.split('/') as [string, string];
      const c = await clients(input.account);
      return openAzureBlockWriter(c.blobService(storageAccount).getContainerClient(container), input);
    },
    async openDiskWriter(input) {
      if (!input.imageName)
        throw new Error('internal: an Azure upload needs the image name (the blob is named after it)');
      const o = azureOptions(input);
      const c = await clients(input.release.account);
      if (o.gallery?.community) await checkCommunityGallery(c, o.gallery);
      return openReleasePageBlob(c, input, o);
    },
    async createImage(input) {
      const o = azureOptions(input);
      const c = await clients(input.release.account);
      if (o.gallery?.community) await checkCommunityGallery(c, o.gallery, 'no image was made');
      return o.gallery ? createGalleryVersions(c, input, o, lro) : createManagedImages(c, input, o, lro);
    },
    async replicateImage(input) {
      const o = azureOptions(input);
      if (!o.gallery) {
        return replicateManagedImage(
          await clients(input.release.account),
          input.release,
          input.source,
          input.targetRegion,
          o,
          lro,
        );
      }
      return replicateGalleryVersion(
        await clients(input.release.account),
        input.source,
        input.targetRegion,
        o,
        lro,
      );
    },
    async publishImage(input) {
      // mash's publish (Partner Center) is refused by the plan; this is Imagecast's: gallery sharing.
      if (input.shareWith === 'none') return;
      const o = azureOptions(input);
      if (!o.gallery) {
        // The job schema refuses share_with without gallery_name; reaching here is a bug.
        throw new Error('internal: an Azure managed image cannot be shared (share_with needs gallery_name)');
      }
      await shareGallery(await clients(input.release.account), o, input.shareWith, lro);
    },
    async deprecateImage(input) {
      const c = await clients(input.release.account);
      if (isGalleryId(input.image.imageId)) return deprecateGalleryVersion(c, input.image, lro);
      await deprecateManagedImage(c, input.image, input.replacement, lro);
    },
    async findImageByName(account, region, imageName, o) {
      const c = await clients(account);
      if (isGallery(o)) return findGalleryVersion(c, o, region, imageName);
      return findManagedImage(c, resourceGroupOf(c, o), region, imageName);
    },
    async deleteImage(release, image) {
      const c = await clients(release.account);
      if (isGalleryId(image.imageId)) return deleteGalleryVersions(c, image.imageId, lro);
      await deleteManagedImages(c, image, lro);
    },
    async deleteDisk(release, disk) {
      const c = await clients(release.account);
      // Replicated managed images were copied through a disk and snapshot noted on the blob: those first.
      const copyGroup = await copyGroupOfBlob(c, disk.diskId);
      if (copyGroup) await discardCopySources(c, copyGroup, release, lro);
      await deletePageBlob(c, release, disk.diskId);
    },
    async discardReleaseArtifacts(release, _regions, o) {
      const c = await clients(release.account);
      await discardAzureTestGroups(c, release, lro);
      if (isGallery(o)) await discardGalleryVersions(c, o, release, lro);
      await discardManagedImages(c, resourceGroupOf(c, o), release, lro);
      if (o?.cloud === 'azure' && !o.gallery) await discardCopySources(c, o.resourceGroup, release, lro);
      if (o?.cloud === 'azure') await discardPageBlobs(c, o, release);
    },
    async adoptReusable(input) {
      return adoptAzureReusable(await clients(input.release.account), input, azureOptions(input), lro);
    },
    async preflight(input) {
      return preflightAzure(await clients(input.release.account), input, azureOptions(input));
    },
    async withdrawImage(input) {
      await withdrawAzureImage(await clients(input.release.account), input, lro);
    },
    async restoreImage(input) {
      await restoreAzureImage(await clients(input.release.account), input, lro);
    },
    async launchTestInstance(input) {
      const o = azureOptions(input);
      const c = await clients(input.release.account);
      return launchAzureTestInstance(
        c,
        {
          ...input,
          architecture: o.architecture ?? 'x86_64',
          attempt: activityAttempt(),
          // The test VM boots the first definition's version: its security type, if V2.
          ...(o.gallery?.definitions[0]?.hyperVGeneration === 'V2' && {
            securityType: o.gallery.securityType,
          }),
        },
        { ...lro, emulator },
      );
    },
    async rebootTestInstance(release: ReleaseRef, instance: TestInstance) {
      await rebootAzureTestInstance(await clients(release.account), instance, lro);
    },
    async testInstanceGone(release, instance) {
      return azureTestInstanceGone(await clients(release.account), instance);
    },
    async terminateTestInstance(release, instance) {
      await terminateAzureTestInstance(await clients(release.account), instance, lro);
    },
  };
}
