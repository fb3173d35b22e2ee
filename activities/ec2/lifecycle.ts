import {
  CreateTagsCommand,
  DeregisterImageCommand,
  DescribeImagesCommand,
  DescribeSnapshotsCommand,
  EnableImageDeprecationCommand,
  ModifyImageAttributeCommand,
  ModifySnapshotAttributeCommand,
  type Image,
} from '@aws-sdk/client-ec2';
import type { DeprecateImageInput, ImageRef, PublishImageInput, ReleaseRef } from '../provider.js';
import { aws, awsErrorCode } from './aws-errors.js';
import { deleteSnapshot, ec2Options } from './ebs-snapshot-writer.js';
import { describeImage } from './images.js';
import type { AwsClients } from './sessions.js';
import { byReleaseToken, TAG } from './tags.js';

/** Who may launch (and, with allow_copy, copy) the AMI. Adding a permission twice is harmless. */
export async function publishEc2Image(clients: AwsClients, input: PublishImageInput): Promise<void> {
  const { image, shareWith } = input;
  const { copyPermission } = ec2Options(input);
  if (shareWith !== 'none') {
    await aws(`ModifyImageAttribute ${image.imageId}`, () =>
      clients.ec2.send(
        new ModifyImageAttributeCommand({
          ImageId: image.imageId,
          LaunchPermission: {
            Add: shareWith === 'all' ? [{ Group: 'all' }] : shareWith.map((UserId) => ({ UserId })),
          },
        }),
      ),
    );
  }
  if (copyPermission === 'none') return;
  const described = await describeImage(clients, image.imageId);
  for (const snapshotId of snapshotsOf(described)) {
    await aws(`ModifySnapshotAttribute ${snapshotId}`, () =>
      clients.ec2.send(
        new ModifySnapshotAttributeCommand({
          SnapshotId: snapshotId,
          Attribute: 'createVolumePermission',
          OperationType: 'add',
          ...(copyPermission === 'all' ? { GroupNames: ['all'] } : { UserIds: copyPermission }),
        }),
      ),
    );
  }
}

/**
 * Retires an AMI the way AWS means it (EnableImageDeprecation: hidden from new launches by
 * default, still usable by those who run it) and the way ec2deprecateimg marks it (tags
 * naming the date and the replacement), so people and tools of either kind see it.
 */
export async function deprecateEc2Image(
  clients: AwsClients,
  // Revoke deprecates with a replacement only where the revoked release had replaced one.
  input: Pick<DeprecateImageInput, 'image'> & { replacement?: DeprecateImageInput['replacement'] },
  now = new Date(),
): Promise<void> {
  const { image, replacement } = input;
  // AWS refuses a time in the past and rounds to the minute: the next whole minute.
  const deprecateAt = new Date(Math.ceil((now.getTime() + 60_000) / 60_000) * 60_000);
  await aws(`EnableImageDeprecation ${image.imageId}`, () =>
    clients.ec2.send(new EnableImageDeprecationCommand({ ImageId: image.imageId, DeprecateAt: deprecateAt })),
  );
  await aws(`CreateTags ${image.imageId}`, () =>
    clients.ec2.send(
      new CreateTagsCommand({
        Resources: [image.imageId],
        Tags: [
          { Key: TAG.deprecatedOn, Value: now.toISOString().slice(0, 10).replaceAll('-', '') },
          ...(replacement
            ? [{ Key: TAG.replacementImage, Value: `${replacement.imageId}--${replacement.imageName}`.slice(0, 256) }]
            : []),
        ],
      }),
    ),
  );
}

/** Deregisters the AMI and deletes its snapshots; what is already gone is fine. */
export async function deleteEc2Image(clients: AwsClients, image: Pick<ImageRef, 'imageId'>): Promise<void> {
  const described = await describeImage(clients, image.imageId);
  if (!described) return;
  try {
    await clients.ec2.send(new DeregisterImageCommand({ ImageId: image.imageId }));
  } catch (error) {
    if (!awsErrorCode(error)?.startsWith('InvalidAMIID.')) {
      throw await aws('DeregisterImage', () => Promise.reject(error)).catch((e: unknown) => e);
    }
  }
  for (const snapshotId of snapshotsOf(described)) await deleteSnapshot(clients, snapshotId);
}

/**
 * The uploaded snapshot is the AMI's root volume: it stays while an image of this account
 * and region uses it, and goes when none does (the image was never made, or was deleted).
 */
export async function deleteEc2Disk(clients: AwsClients, snapshotId: string): Promise<void> {
  const { Images } = await aws('DescribeImages', () =>
    clients.ec2.send(
      new DescribeImagesCommand({
        Owners: ['self'],
        Filters: [{ Name: 'block-device-mapping.snapshot-id', Values: [snapshotId] }],
      }),
    ),
  );
  if ((Images ?? []).some((i) => snapshotsOf(i).includes(snapshotId))) return;
  await deleteSnapshot(clients, snapshotId);
}

/** The saga's safety net in one region: every AMI and snapshot carrying this run's token. */
export async function discardEc2Artifacts(clients: AwsClients, release: ReleaseRef): Promise<void> {
  const { Images } = await aws('DescribeImages', () =>
    clients.ec2.send(new DescribeImagesCommand({ Owners: ['self'], Filters: byReleaseToken(release) })),
  );
  for (const image of Images ?? []) await deleteEc2Image(clients, { imageId: image.ImageId! });
  const { Snapshots } = await aws('DescribeSnapshots', () =>
    clients.ec2.send(new DescribeSnapshotsCommand({ OwnerIds: ['self'], Filters: byReleaseToken(release) })),
  );
  for (const snapshot of Snapshots ?? []) await deleteSnapshot(clients, snapshot.SnapshotId!);
}

export function snapshotsOf(image: Image | undefined): string[] {
  return (image?.BlockDeviceMappings ?? []).flatMap((m) => (m.Ebs?.SnapshotId ? [m.Ebs.SnapshotId] : []));
}
