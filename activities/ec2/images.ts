import { setTimeout as sleep } from 'node:timers/promises';
import {
  CopyImageCommand,
  CreateTagsCommand,
  DescribeImagesCommand,
  DescribeSnapshotsCommand,
  RegisterImageCommand,
  type BootModeValues,
  type Image,
  type RegisterImageCommandInput,
} from '@aws-sdk/client-ec2';
import { ApplicationFailure } from '@temporalio/common';
import { activitySignal, heartbeatIfInActivity } from '../common/activity-heartbeat.js';
import { nonRetryable, retryable } from '../common/errors.js';
import type { CloudImage, CreateImageInput, ImageRef, ReleaseRef, ReplicateImageInput } from '../provider.js';
import { aws, awsErrorCode } from './aws-errors.js';
import { clientToken, ec2Options } from './ebs-snapshot-writer.js';
import { deleteEc2Image } from './lifecycle.js';
import type { AwsClients } from './sessions.js';
import { jobImageTags, releaseTags, TAG, tagValue, userTags } from './tags.js';
import { standInName } from '../common/stand-in-name.js';

/** The root device of SUSE's EC2 images (HVM). */
const ROOT_DEVICE = '/dev/sda1';

export interface WaitSettings {
  /** Between polls of a snapshot or image that is not ready yet. */
  pollMs: number;
}

/** mash's boot_firmware → RegisterImage BootMode (the first entry is the one AWS boots with). */
export function bootModeOf(bootFirmware: readonly string[]): BootModeValues {
  const first = bootFirmware[0] ?? 'bios';
  if (first === 'uefi-preferred') return 'uefi-preferred';
  if (first === 'uefi') return 'uefi';
  return 'legacy-bios';
}

/** The exact RegisterImage request for a release's disk: the contract tests pin it down. */
export function registerImageRequest(input: CreateImageInput, checksum: string): RegisterImageCommandInput {
  const options = ec2Options(input);
  return {
    Name: input.imageName,
    Description: input.description,
    Architecture: input.architecture === 'aarch64' ? 'arm64' : 'x86_64',
    VirtualizationType: 'hvm',
    RootDeviceName: ROOT_DEVICE,
    BlockDeviceMappings: [
      {
        DeviceName: ROOT_DEVICE,
        Ebs: {
          SnapshotId: input.disk.diskId,
          VolumeSize: options.rootVolumeSizeGiB,
          VolumeType: 'gp3',
          DeleteOnTermination: true,
        },
      },
    ],
    BootMode: bootModeOf(input.bootFirmware),
    EnaSupport: options.enaSupport,
    ...(options.sriovSupport && { SriovNetSupport: 'simple' }),
    ...(options.tpmSupport && { TpmSupport: options.tpmSupport }),
    ...(options.imdsSupport && { ImdsSupport: options.imdsSupport }),
    ...(options.billingCodes.length > 0 && { BillingProducts: options.billingCodes }),
    TagSpecifications: [
      { ResourceType: 'image', Tags: [...releaseTags(input.release, checksum), ...jobImageTags(options)] },
    ],
  };
}

/**
 * Registers the uploaded snapshot as an AMI. Idempotent by name: AMI names are unique per
 * account and region, so a retry finds the image its earlier attempt registered (it carries
 * this run's token); an image of that name from anywhere else is a job problem.
 */
export async function createEc2Image(
  clients: AwsClients,
  input: CreateImageInput,
  wait: WaitSettings,
): Promise<ImageRef> {
  const { release, disk, imageName } = input;
  if (ec2Options(input).forceReplace) {
    // force_replace_image: made under a stand-in name until tested (completeEc2Replacement).
    const holder = await describeImageByName(clients, imageName);
    if (holder && tagValue(holder.Tags, TAG.releaseToken) !== release.releaseToken) {
      const options = { ...ec2Options(input), forceReplace: false };
      const made = await createEc2Image(clients, { ...input, imageName: standInName(imageName, release.releaseToken), options }, wait);
      return { ...made, finalName: imageName };
    }
  }
  // First, so a retry after RegisterImage still tags it (CreateTags is idempotent).
  await tagSnapshot(clients, disk.diskId, ec2Options(input).imageTags ?? []);
  const mine = await findOwnImage(clients, release, imageName);
  if (mine) return mine;
  await waitForSnapshot(clients, disk.diskId, wait);
  const checksum = `${disk.checksum.algorithm}:${disk.checksum.hex}`;
  try {
    const { ImageId } = await clients.ec2.send(
      new RegisterImageCommand(registerImageRequest(input, checksum)),
    );
    return { region: clients.region, imageId: ImageId!, imageName };
  } catch (error) {
    // A crash between RegisterImage and its answer: the image is there, with our token.
    if (awsErrorCode(error) === 'InvalidAMIName.Duplicate') {
      const found = await findOwnImage(clients, release, imageName);
      if (found) return found;
    }
    throw await aws('RegisterImage', () => Promise.reject(error)).catch((e: unknown) => e);
  }
}

/**
 * Copies the AMI to another region and waits until it is available. The ClientToken makes a
 * repeated CopyImage return the first copy; the name check covers a retry on another worker.
 */
export async function replicateEc2Image(
  source: AwsClients,
  target: AwsClients,
  input: ReplicateImageInput,
  wait: WaitSettings,
): Promise<ImageRef> {
  const { release, targetRegion } = input;
  const imageName = input.source.imageName;
  if (input.options?.cloud === 'ec2' && input.options.forceReplace) await clearNameForCopy(target, imageName, release.releaseToken);
  let copy = await findOwnImage(target, release, imageName);
  if (!copy) {
    // CopyImageTags copies the AMI's tags, not its snapshot's: the job's tags go on the copy's snapshot here.
    const jobTags = userTags((await describeImage(source, input.source.imageId))?.Tags);
    const { ImageId } = await aws(`CopyImage to ${targetRegion}`, () =>
      target.ec2.send(
        new CopyImageCommand({
          SourceRegion: source.region,
          SourceImageId: input.source.imageId,
          Name: imageName,
          Description: input.description,
          ClientToken: clientToken(release.releaseToken, targetRegion, 'copy'),
          CopyImageTags: true,
          TagSpecifications: [
            { ResourceType: 'image', Tags: releaseTags(release) },
            { ResourceType: 'snapshot', Tags: [...releaseTags(release), ...jobTags] },
          ],
        }),
      ),
    );
    copy = { region: targetRegion, imageId: ImageId!, imageName };
  }
  try {
    await waitForImage(target, copy.imageId, wait);
  } catch (error) {
    // A failed copy would be found again by the retry: remove it so the retry copies anew.
    if (isApplicationFailure(error, 'ImageCopyFailed')) await deleteEc2Image(target, copy);
    throw error;
  }
  return copy;
}

/** A replica region with force_replace_image: the other AMI of the name goes before the copy (the home AMI is tested by now). */
async function clearNameForCopy(clients: AwsClients, imageName: string, releaseToken: string): Promise<void> {
  const holder = await describeImageByName(clients, imageName);
  if (holder && tagValue(holder.Tags, TAG.releaseToken) !== releaseToken) await deleteEc2Image(clients, { imageId: holder.ImageId! });
}

/** The job's image_tags on the uploaded snapshot (the AMI gets them at registration). */
async function tagSnapshot(clients: AwsClients, snapshotId: string, tags: Array<{ Key: string; Value: string }>) {
  if (tags.length === 0) return;
  await aws('CreateTags', () => clients.ec2.send(new CreateTagsCommand({ Resources: [snapshotId], Tags: tags })));
}

/** This run's image of that name, or nothing; another run's image of that name is refused. */
async function findOwnImage(
  clients: AwsClients,
  release: ReleaseRef,
  imageName: string,
): Promise<ImageRef | undefined> {
  const image = await describeImageByName(clients, imageName);
  if (!image) return undefined;
  if (tagValue(image.Tags, TAG.releaseToken) === release.releaseToken) {
    return { region: clients.region, imageId: image.ImageId!, imageName };
  }
  throw nonRetryable(
    'ImageAlreadyExists',
    `an AMI named "${imageName}" already exists in ${clients.account.name}/${clients.region} (${image.ImageId}): choose another cloud_image_name or deregister that AMI`,
    { region: clients.region, imageId: image.ImageId, imageName },
  );
}

export async function describeImageByName(
  clients: AwsClients,
  imageName: string,
): Promise<Image | undefined> {
  const { Images } = await aws('DescribeImages', () =>
    clients.ec2.send(
      new DescribeImagesCommand({ Owners: ['self'], Filters: [{ Name: 'name', Values: [imageName] }] }),
    ),
  );
  return Images?.find((i) => i.Name === imageName);
}

export async function describeImage(clients: AwsClients, imageId: string): Promise<Image | undefined> {
  try {
    const { Images } = await clients.ec2.send(new DescribeImagesCommand({ ImageIds: [imageId] }));
    return Images?.[0];
  } catch (error) {
    if (awsErrorCode(error)?.startsWith('InvalidAMIID.')) return undefined;
    throw await aws('DescribeImages', () => Promise.reject(error)).catch((e: unknown) => e);
  }
}

export function toCloudImage(region: string, image: Image): CloudImage {
  const deprecated = image.DeprecationTime !== undefined && Date.parse(image.DeprecationTime) <= Date.now();
  const state =
    image.State === 'available'
      ? deprecated
        ? 'deprecated'
        : 'available'
      : image.State === 'pending'
        ? 'pending'
        : 'failed';
  return {
    region,
    imageId: image.ImageId!,
    imageName: image.Name ?? '',
    state,
    releaseToken: tagValue(image.Tags, TAG.releaseToken),
    visibility: image.Public ? 'public' : 'private',
  };
}

/** RegisterImage needs a completed snapshot; EBS direct snapshots finish shortly after CompleteSnapshot. */
async function waitForSnapshot(
  clients: AwsClients,
  snapshotId: string,
  { pollMs }: WaitSettings,
): Promise<void> {
  for (;;) {
    const { Snapshots } = await aws('DescribeSnapshots', () =>
      clients.ec2.send(new DescribeSnapshotsCommand({ SnapshotIds: [snapshotId] })),
    );
    const state = Snapshots?.[0]?.State;
    if (state === 'completed') return;
    if (state === 'error' || state === undefined) {
      throw retryable(
        'SnapshotFailed',
        `snapshot ${snapshotId} is ${state ?? 'gone'}: the upload must run again`,
      );
    }
    heartbeatIfInActivity({ waitingFor: snapshotId, state });
    await sleep(pollMs, undefined, { signal: activitySignal() });
  }
}

/** Waits until a copy is available; a failed copy is an error the retry starts over from. */
async function waitForImage(clients: AwsClients, imageId: string, { pollMs }: WaitSettings): Promise<void> {
  for (;;) {
    const image = await describeImage(clients, imageId);
    if (image?.State === 'available') return;
    if (!image || image.State === 'failed' || image.State === 'error' || image.State === 'invalid') {
      throw retryable(
        'ImageCopyFailed',
        `AMI ${imageId} in ${clients.region} is ${image?.State ?? 'gone'}${image?.StateReason?.Message ? `: ${image.StateReason.Message}` : ''}`,
      );
    }
    heartbeatIfInActivity({ waitingFor: imageId, region: clients.region, state: image.State });
    await sleep(pollMs, undefined, { signal: activitySignal() });
  }
}

function isApplicationFailure(error: unknown, type: string): boolean {
  return error instanceof ApplicationFailure && error.type === type;
}
