import {
  DeleteTagsCommand,
  DescribeImageAttributeCommand,
  DescribeSnapshotAttributeCommand,
  DisableImageDeprecationCommand,
  ModifyImageAttributeCommand,
  ModifySnapshotAttributeCommand,
  type Image,
} from '@aws-sdk/client-ec2';
import type { RestoreImageInput, WithdrawImageInput } from '../provider.js';
import { aws } from './aws-errors.js';
import { describeImage } from './images.js';
import { deprecateEc2Image } from './lifecycle.js';
import type { AwsClients } from './sessions.js';
import { TAG } from './tags.js';

/**
 * Revoke's withdrawal of an AMI: every launch permission goes (the `all` group and each
 * account), and with it every create-volume permission on its snapshots (allow_copy), so
 * nobody new can launch or copy it; then it is deprecated from the next whole minute (AWS
 * refuses past times) and tagged as ec2deprecateimg tags. Instances already running keep running.
 */
export async function withdrawEc2Image(
  clients: AwsClients,
  input: WithdrawImageInput,
  now = new Date(),
): Promise<void> {
  const { image, replacement } = input;
  const described = await describeImage(clients, image.imageId);
  if (!described) return; // deregistered meanwhile: nobody can launch it
  const { LaunchPermissions } = await aws(`DescribeImageAttribute ${image.imageId}`, () =>
    clients.ec2.send(
      new DescribeImageAttributeCommand({ ImageId: image.imageId, Attribute: 'launchPermission' }),
    ),
  );
  if (LaunchPermissions?.length) {
    await aws(`ModifyImageAttribute ${image.imageId}`, () =>
      clients.ec2.send(
        new ModifyImageAttributeCommand({
          ImageId: image.imageId,
          LaunchPermission: { Remove: LaunchPermissions },
        }),
      ),
    );
  }
  for (const snapshotId of snapshotsOf(described)) {
    const { CreateVolumePermissions } = await aws(`DescribeSnapshotAttribute ${snapshotId}`, () =>
      clients.ec2.send(
        new DescribeSnapshotAttributeCommand({ SnapshotId: snapshotId, Attribute: 'createVolumePermission' }),
      ),
    );
    const groups = (CreateVolumePermissions ?? []).flatMap((p) => (p.Group ? [p.Group] : []));
    const userIds = (CreateVolumePermissions ?? []).flatMap((p) => (p.UserId ? [p.UserId] : []));
    if (groups.length + userIds.length === 0) continue;
    // The OperationType form, as publish adds them (moto knows only this one; AWS both).
    await aws(`ModifySnapshotAttribute ${snapshotId}`, () =>
      clients.ec2.send(
        new ModifySnapshotAttributeCommand({
          SnapshotId: snapshotId,
          Attribute: 'createVolumePermission',
          OperationType: 'remove',
          ...(groups.length && { GroupNames: groups }),
          ...(userIds.length && { UserIds: userIds }),
        }),
      ),
    );
  }
  await deprecateEc2Image(clients, { image, replacement }, now);
}

/**
 * Revoke's restoration of an AMI the revoked release had deprecated: DisableImageDeprecation
 * and the deprecation tags removed. Its launch permissions were never touched by the
 * deprecation, so it is shared as it was.
 */
export async function restoreEc2Image(clients: AwsClients, input: RestoreImageInput): Promise<void> {
  const { image } = input;
  await aws(`DisableImageDeprecation ${image.imageId}`, () =>
    clients.ec2.send(new DisableImageDeprecationCommand({ ImageId: image.imageId })),
  );
  await aws(`DeleteTags ${image.imageId}`, () =>
    clients.ec2.send(
      new DeleteTagsCommand({
        Resources: [image.imageId],
        Tags: [{ Key: TAG.deprecatedOn }, { Key: TAG.replacementImage }],
      }),
    ),
  );
}

function snapshotsOf(image: Image): string[] {
  return (image.BlockDeviceMappings ?? []).flatMap((m) => (m.Ebs?.SnapshotId ? [m.Ebs.SnapshotId] : []));
}
