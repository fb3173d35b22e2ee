import { DeregisterImageCommand, RegisterImageCommand } from '@aws-sdk/client-ec2';
import type { CompleteReplacementInput, ImageRef } from '../provider.js';
import { aws, awsErrorCode } from './aws-errors.js';
import { describeImageByName, registerImageRequest } from './images.js';
import { deleteEc2Image } from './lifecycle.js';
import type { AwsClients } from './sessions.js';
import { TAG, tagValue } from './tags.js';

/**
 * force_replace_image, once the stand-in AMI passed its tests: the other AMI of the name is
 * deregistered (with its snapshots), the release's snapshot is registered again under the
 * name (AMI names are unique per account and region, and an AMI cannot be renamed), and the
 * stand-in AMI is deregistered, keeping the snapshot the new AMI uses. A retry finds the name
 * already the release's (its token tag) and only finishes removing the stand-in.
 */
export async function completeEc2Replacement(
  clients: AwsClients,
  input: CompleteReplacementInput,
): Promise<{ image: ImageRef; replaced: ImageRef[] }> {
  const { release, imageName, standIn } = input;
  const region = clients.region;
  const replaced: ImageRef[] = [];
  const holder = await describeImageByName(clients, imageName);
  let image: ImageRef;
  if (holder && tagValue(holder.Tags, TAG.releaseToken) === release.releaseToken) {
    image = { region, imageId: holder.ImageId!, imageName };
  } else {
    if (holder) {
      await deleteEc2Image(clients, { imageId: holder.ImageId! });
      replaced.push({ region, imageId: holder.ImageId!, imageName });
    }
    const checksum = `${input.disk.checksum.algorithm}:${input.disk.checksum.hex}`;
    const { ImageId } = await aws(
      `RegisterImage ${imageName} in place of ${holder?.ImageId ?? 'the replaced AMI'}`,
      () => clients.ec2.send(new RegisterImageCommand(registerImageRequest(input, checksum))),
    );
    image = { region, imageId: ImageId!, imageName };
  }
  await deregisterOnly(clients, standIn.imageId);
  return { image, replaced };
}

/** Only the AMI: its snapshot is the new AMI's root volume. */
async function deregisterOnly(clients: AwsClients, imageId: string): Promise<void> {
  try {
    await clients.ec2.send(new DeregisterImageCommand({ ImageId: imageId }));
  } catch (error) {
    if (awsErrorCode(error)?.startsWith('InvalidAMIID.')) return;
    throw await aws('DeregisterImage', () => Promise.reject(error)).catch((e: unknown) => e);
  }
}
