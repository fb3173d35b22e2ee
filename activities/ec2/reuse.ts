import { CreateTagsCommand, DescribeSnapshotsCommand, type Image, type Tag } from '@aws-sdk/client-ec2';
import type { AdoptReusableInput, ImageRef, Reused, ReusableArtifacts, UploadedDisk } from '../provider.js';
import { aws } from './aws-errors.js';
import { describeImageByName } from './images.js';
import { snapshotsOf } from './lifecycle.js';
import type { AwsClients } from './sessions.js';
import { TAG, tagValue } from './tags.js';

const GiB = 1024 ** 3;

/**
 * A retry's head start on EC2: the uploaded snapshot (home region, checksum tag matching)
 * and the AMIs of that name that the earlier runs of this release left, re-tagged with this
 * run's token (and `imagecast:reused-from`), so this run's cleanup and saga remove them
 * like its own. CreateTags is idempotent; a repeat finds them adopted by the second tag.
 */
export async function adoptEc2Reusable(
  clientsIn: (region: string) => Promise<AwsClients>,
  input: AdoptReusableInput,
): Promise<ReusableArtifacts> {
  const [home] = input.regions;
  const disk = home === undefined ? undefined : await adoptSnapshot(await clientsIn(home), input);
  const images = await Promise.all(
    [...new Set(input.regions)].map(async (region) =>
      adoptImage(await clientsIn(region), input, region === home),
    ),
  );
  return { ...(disk && { disk }), images: images.filter((i): i is Reused<ImageRef> => i !== undefined) };
}

/** Which earlier run made it, when this run may adopt it (or already did). */
function adoptableFrom(input: AdoptReusableInput, tags: Tag[] | undefined): string | undefined {
  const token = tagValue(tags, TAG.releaseToken);
  if (token && input.earlierTokens.includes(token)) return token;
  return token === input.release.releaseToken ? tagValue(tags, TAG.reusedFrom) : undefined;
}

const checksumOf = (input: AdoptReusableInput) => `${input.checksum.algorithm}:${input.checksum.hex}`;

async function adoptSnapshot(
  clients: AwsClients,
  input: AdoptReusableInput,
): Promise<Reused<UploadedDisk> | undefined> {
  // The checksum tag is set only once the upload completed and was verified.
  const { Snapshots } = await aws('DescribeSnapshots', () =>
    clients.ec2.send(
      new DescribeSnapshotsCommand({
        OwnerIds: ['self'],
        Filters: [
          { Name: `tag:${TAG.releaseToken}`, Values: [...input.earlierTokens, input.release.releaseToken] },
          { Name: `tag:${TAG.checksum}`, Values: [checksumOf(input)] },
        ],
      }),
    ),
  );
  const snapshot = (Snapshots ?? []).find((s) => s.State === 'completed' && adoptableFrom(input, s.Tags));
  if (!snapshot) return undefined;
  const from = adoptableFrom(input, snapshot.Tags)!;
  await retag(clients, [snapshot.SnapshotId!], input, from);
  return {
    region: clients.region,
    diskId: snapshot.SnapshotId!,
    sizeBytes: (snapshot.VolumeSize ?? 0) * GiB,
    // Nothing was sent for this run.
    bytesWritten: 0,
    checksum: input.checksum,
    reusedFrom: from,
  };
}

async function adoptImage(
  clients: AwsClients,
  input: AdoptReusableInput,
  isHome: boolean,
): Promise<Reused<ImageRef> | undefined> {
  const image = await describeImageByName(clients, input.imageName);
  if (!image || !usable(image, input)) return undefined;
  const from = adoptableFrom(input, image.Tags)!;
  await retag(clients, [image.ImageId!, ...snapshotsOf(image)], input, from);
  // A copy still pending is this run's now but not done: the replicate step finds it by name
  // and token and waits for it, as it would for a copy of its own.
  if (!isHome && image.State !== 'available') return undefined;
  return { region: clients.region, imageId: image.ImageId!, imageName: input.imageName, reusedFrom: from };
}

/** Made by an earlier run, of this build (copies may lack the checksum tag), and not failed or deprecated. */
function usable(image: Image, input: AdoptReusableInput): boolean {
  if (!adoptableFrom(input, image.Tags)) return false;
  const sum = tagValue(image.Tags, TAG.checksum);
  if (sum !== undefined && sum !== checksumOf(input)) return false;
  if (image.DeprecationTime !== undefined) return false;
  return image.State === 'available' || image.State === 'pending';
}

async function retag(
  clients: AwsClients,
  resources: string[],
  input: AdoptReusableInput,
  from: string,
): Promise<void> {
  await aws('CreateTags', () =>
    clients.ec2.send(
      new CreateTagsCommand({
        Resources: resources,
        Tags: [
          { Key: TAG.releaseToken, Value: input.release.releaseToken },
          { Key: TAG.reusedFrom, Value: from },
        ],
      }),
    ),
  );
}
