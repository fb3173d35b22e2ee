import { openGcsObjectWriter } from '../common/raw-upload/gcs-object-writer.js';
import { PassThroughClient } from 'google-auth-library';
import type { AccountDirectory } from '../accounts/account-directory.js';
import type { CloudProvider, ReleaseRef, TestInstance } from '../provider.js';
import type { CloudImageOptions, GceImageOptions } from '../../schemas/release-plan.js';
import { GceSessions, type GceClients } from './clients.js';
import { deleteGcsObject, discardGcsUploads, openGcsTarballWriter, sessionStatus } from './gcs-tarball-writer.js';
import { createGceImage, deleteGceImage, discardGceImages, findGceImage, type WaitSettings } from './images.js';
import { gceOptions } from './labels.js';
import { deprecateGceImage, publishGceImage } from './lifecycle.js';
import { preflightGce } from './preflight.js';
import { adoptGceReusable } from './reuse.js';
import { restoreGceImage, withdrawGceImage } from './revoke.js';
import {
  discardGceTestInstances,
  gceTestInstanceGone,
  launchGceTestInstance,
  rebootGceTestInstance,
  terminateGceTestInstance,
} from './test-instances.js';

export interface GceCloudOptions {
  accounts: AccountDirectory;
  /** A Compute Engine fake's root (`http://127.0.0.1:PORT`); tests and the dev stack only. */
  computeEndpoint?: string;
  /** A Cloud Storage emulator's root (fake-gcs-server); tests and the dev stack only. */
  storageEndpoint?: string;
  /** Between polls of images and instances that are not ready (Google: seconds to minutes). */
  pollMs?: number;
}

/** `gs://bucket/object` → its parts. */
function parseGsUrl(diskId: string): { bucket: string; object: string } {
  const m = /^gs:\/\/([^/]+)\/(.+)$/.exec(diskId);
  if (!m) throw new Error(`"${diskId}" is not a gs:// object`);
  return { bucket: m[1]!, object: m[2]! };
}

/**
 * Google Compute Engine behind the CloudProvider interface: the disk as a streamed,
 * resumable `<name>.tar.gz` in the account's bucket, images.insert from it, a test instance
 * in the testing account's project, IAM sharing, images.deprecate. Images are global: the
 * release's one region is `global` and nothing is replicated. Credentials never leave
 * GceSessions.
 */
export function createGceCloud(options: GceCloudOptions): CloudProvider & { close(): Promise<void> } {
  const emulator = Boolean(options.computeEndpoint || options.storageEndpoint);
  // Fakes take no OAuth token: a pass-through auth client sends none.
  const sessions = new GceSessions(options.accounts, {
    ...(options.computeEndpoint && { computeEndpoint: options.computeEndpoint }),
    ...(options.storageEndpoint && { storageEndpoint: options.storageEndpoint }),
    ...(emulator && { authClient: new PassThroughClient() }),
  });
  const wait: WaitSettings = { pollMs: options.pollMs ?? 10_000 };
  const clients = (account: string) => sessions.forAccount(account);
  const testClients = (release: ReleaseRef, instance: TestInstance) => clients(instance.account ?? release.account);
  const bucketOf = (c: GceClients, o?: CloudImageOptions) => (o?.cloud === 'gce' ? o.bucket : c.account.bucket);

  return {
    cloud: 'gce',
    async openObjectWriter(input) {
      const c = await clients(input.account);
      return openGcsObjectWriter(c.storage, input, (uri) => sessionStatus(c, uri));
    },
    async openDiskWriter(input) {
      const o = gceOptions(input);
      if (!input.imageName) throw new Error('internal: a GCE upload needs the image name (the tarball is named after it)');
      const c = await clients(input.release.account);
      return openGcsTarballWriter(c, input, { bucket: o.bucket, objectName: `${input.imageName}.tar.gz`, forceReplace: o.forceReplace });
    },
    async createImage(input) {
      return createGceImage(await clients(input.release.account), input, wait);
    },
    replicateImage() {
      // The workflow skips replicate for GCE; reaching here is a bug, not a job problem.
      return Promise.reject(new Error('GCE images are global: there is nothing to replicate'));
    },
    async publishImage(input) {
      await publishGceImage(await clients(input.release.account), input);
    },
    async deprecateImage(input) {
      return deprecateGceImage(await clients(input.release.account), input);
    },
    async findImageByName(account, _region, imageName) {
      return findGceImage(await clients(account), imageName);
    },
    async deleteImage(release, image) {
      await deleteGceImage(await clients(release.account), image.imageName);
    },
    async deleteDisk(release, disk) {
      const { bucket, object } = parseGsUrl(disk.diskId);
      await deleteGcsObject(await clients(release.account), bucket, object);
    },
    async discardReleaseArtifacts(release, _regions, o) {
      const c = await clients(release.account);
      const g = o?.cloud === 'gce' ? (o as GceImageOptions) : undefined;
      const zones = g ? [g.testZone, ...g.testFallbackZones] : [c.account.zone];
      const tester = g?.testingAccount ?? c.account.testing_account;
      await discardGceTestInstances(c, release, zones);
      if (tester && tester !== release.account) await discardGceTestInstances(await clients(tester), release, zones);
      await discardGceImages(c, release);
      await discardGcsUploads(c, bucketOf(c, o), release);
    },
    async adoptReusable(input) {
      const c = await clients(input.release.account);
      return adoptGceReusable(c, bucketOf(c, input.options), input);
    },
    async preflight(input) {
      const c = await clients(input.release.account);
      return preflightGce(c, bucketOf(c, input.options), input);
    },
    async withdrawImage(input) {
      await withdrawGceImage(await clients(input.release.account), input);
    },
    async restoreImage(input) {
      await restoreGceImage(await clients(input.release.account), input);
    },
    async launchTestInstance(input) {
      const o = gceOptions(input);
      const release = await clients(input.release.account);
      const tester = o.testingAccount ? await clients(o.testingAccount) : release;
      return launchGceTestInstance(tester, release.project, input, { ...wait, emulator });
    },
    async rebootTestInstance(release, instance) {
      await rebootGceTestInstance(await testClients(release, instance), instance);
    },
    async testInstanceGone(release, instance) {
      return gceTestInstanceGone(await testClients(release, instance), instance);
    },
    async terminateTestInstance(release, instance) {
      await terminateGceTestInstance(await testClients(release, instance), release, instance);
    },
    close: () => sessions.close(),
  };
}
