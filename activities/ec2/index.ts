import type { AccountDirectory } from '../accounts/account-directory.js';
import type { CloudProvider } from '../provider.js';
import { openEbsSnapshotWriter } from './ebs-snapshot-writer.js';
import { discardImportStaging, openS3ImportWriter } from './s3-import-writer.js';
import {
  createEc2Image,
  describeImageByName,
  replicateEc2Image,
  toCloudImage,
  type WaitSettings,
} from './images.js';
import {
  deleteEc2Disk,
  deleteEc2Image,
  deprecateEc2Image,
  discardEc2Artifacts,
  publishEc2Image,
} from './lifecycle.js';
import { adoptEc2Reusable } from './reuse.js';
import { preflightEc2 } from './preflight.js';
import { completeEc2Replacement } from './replace.js';
import { restoreEc2Image, withdrawEc2Image } from './revoke.js';
import { AwsSessions, type AwsSettings } from './sessions.js';
import { openS3ObjectWriter } from '../common/raw-upload/s3-object-writer.js';
import {
  discardEc2TestInstances,
  ec2TestInstanceGone,
  launchEc2TestInstance,
  rebootEc2TestInstance,
  terminateEc2TestInstance,
} from './test-instances.js';

export interface Ec2CloudOptions extends AwsSettings {
  accounts: AccountDirectory;
  /** Between polls of snapshots and copies that are not ready (AWS: seconds to minutes). */
  pollMs?: number;
}

/**
 * Amazon EC2 behind the CloudProvider interface: EBS direct upload (or S3 + ImportSnapshot), RegisterImage, CopyImage
 * in parallel regions, launch/copy permissions, EnableImageDeprecation. Accounts are looked
 * up by name at call time; credentials never leave AwsSessions.
 */
export function createEc2Cloud(options: Ec2CloudOptions): CloudProvider & { close(): void } {
  const sessions = new AwsSessions(options.accounts, options);
  const wait: WaitSettings = { pollMs: options.pollMs ?? 15_000 };
  const clients = (account: string, region: string) => sessions.forRegion(account, region);
  return {
    cloud: 'ec2',
    async openObjectWriter(input) {
      // The account's home region signs; a bucket elsewhere is followed there (followRegionRedirects).
      const account = await options.accounts.ec2Account(input.account);
      return openS3ObjectWriter((await clients(input.account, account.region)).s3, input);
    },
    async openDiskWriter(input) {
      const c = await clients(input.release.account, input.region);
      return input.options?.cloud === 'ec2' && input.options.uploadMethod === 's3_import'
        ? openS3ImportWriter(c, input, wait)
        : openEbsSnapshotWriter(c, input);
    },
    async createImage(input) {
      return createEc2Image(await clients(input.release.account, input.disk.region), input, wait);
    },
    async completeReplacement(input) {
      return completeEc2Replacement(await clients(input.release.account, input.standIn.region), input);
    },
    async replicateImage(input) {
      const { account } = input.release;
      const [source, target] = await Promise.all([
        clients(account, input.source.region),
        clients(account, input.targetRegion),
      ]);
      return replicateEc2Image(source, target, input, wait);
    },
    async publishImage(input) {
      await publishEc2Image(await clients(input.release.account, input.image.region), input);
    },
    async deprecateImage(input) {
      await deprecateEc2Image(await clients(input.release.account, input.image.region), input);
    },
    async findImageByName(account, region, imageName) {
      const c = await clients(account, region);
      const image = await describeImageByName(c, imageName);
      return image && toCloudImage(region, image);
    },
    async adoptReusable(input) {
      return adoptEc2Reusable((region) => clients(input.release.account, region), input);
    },
    async deleteImage(release, image) {
      await deleteEc2Image(await clients(release.account, image.region), image);
    },
    async deleteDisk(release, disk) {
      await deleteEc2Disk(await clients(release.account, disk.region), disk.diskId);
    },
    async discardReleaseArtifacts(release, regions) {
      await Promise.all(
        regions.map(async (region) => {
          const c = await clients(release.account, region);
          await discardEc2TestInstances(c, release);
          await Promise.all([discardEc2Artifacts(c, release), discardImportStaging(c, release)]);
        }),
      );
    },
    preflight: (input) => preflightEc2((region) => clients(input.release.account, region), input),
    async launchTestInstance(input) {
      return launchEc2TestInstance(await clients(input.release.account, input.image.region), input, {
        ...wait,
        emulator: Boolean(options.endpoint),
      });
    },
    async rebootTestInstance(release, instance) {
      await rebootEc2TestInstance(await clients(release.account, instance.region), instance);
    },
    async testInstanceGone(release, instance) {
      return ec2TestInstanceGone(await clients(release.account, instance.region), instance);
    },
    async terminateTestInstance(release, instance) {
      await terminateEc2TestInstance(await clients(release.account, instance.region), instance);
    },
    async withdrawImage(input) {
      await withdrawEc2Image(await clients(input.release.account, input.image.region), input);
    },
    async restoreImage(input) {
      await restoreEc2Image(await clients(input.release.account, input.image.region), input);
    },
    close: () => sessions.destroy(),
  };
}
