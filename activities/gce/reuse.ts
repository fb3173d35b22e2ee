import type { protos } from '@google-cloud/compute';
import { GCE_GLOBAL_REGION } from '../common/plan-gce-target.js';
import type { AdoptReusableInput, ImageRef, Reused, ReusableArtifacts, UploadedDisk } from '../provider.js';
import type { GceClients } from './clients.js';
import {
  CHECKSUM_KEY,
  checksumText,
  DISK_BYTES_KEY,
  metadataOf,
  RELEASE_TOKEN_KEY,
  REUSED_FROM_KEY,
} from './gcs-tarball-writer.js';
import { getImage } from './images.js';
import { LABEL, labelValue } from './labels.js';
import { runOperation } from './operations.js';

type Image = protos.google.cloud.compute.v1.IImage;

/**
 * A retry's head start on GCE: the tarball `<image name>.tar.gz` in the bucket (its checksum
 * metadata matching the build) and the image of that name that the earlier runs of this
 * release left, now carrying this run's token (and who made them), so this run's saga and
 * cleanup remove them like its own and the upload and create steps find them as this run's.
 * Images are global: one region, `global`. A repeat finds them adopted (`reused-from` set).
 */
export async function adoptGceReusable(
  c: GceClients,
  bucket: string,
  input: AdoptReusableInput,
): Promise<ReusableArtifacts> {
  const disk = await adoptTarball(c, bucket, input);
  const image = await adoptImage(c, input);
  return { ...(disk && { disk }), images: image ? [image] : [] };
}

/** Which earlier run made it (as its token), when this run may adopt it or already did. */
function adoptableFrom(
  input: AdoptReusableInput,
  token: string | undefined,
  reusedFrom: string | undefined,
  fold = (t: string) => t,
) {
  if (!token) return undefined;
  const earlier = input.earlierTokens.find((t) => fold(t) === token);
  if (earlier) return earlier;
  if (token !== fold(input.release.releaseToken) || !reusedFrom) return undefined;
  return input.earlierTokens.find((t) => fold(t) === reusedFrom) ?? reusedFrom;
}

async function adoptTarball(
  c: GceClients,
  bucket: string,
  input: AdoptReusableInput,
): Promise<Reused<UploadedDisk> | undefined> {
  const objectName = `${input.imageName}.tar.gz`;
  const file = c.storage.bucket(bucket).file(objectName);
  const found = await metadataOf(file);
  const meta = found?.metadata ?? {};
  // Only a composed, verified upload carries the checksum; parts and older tarballs do not.
  if (!found || meta[CHECKSUM_KEY] !== checksumText(input.checksum)) return undefined;
  const from = adoptableFrom(input, str(meta[RELEASE_TOKEN_KEY]), str(meta[REUSED_FROM_KEY]));
  if (!from) return undefined;
  if (meta[RELEASE_TOKEN_KEY] !== input.release.releaseToken) {
    await file.setMetadata({
      metadata: { [RELEASE_TOKEN_KEY]: input.release.releaseToken, [REUSED_FROM_KEY]: from },
    });
  }
  return {
    region: GCE_GLOBAL_REGION,
    diskId: `gs://${bucket}/${objectName}`,
    sizeBytes: Number(meta[DISK_BYTES_KEY] ?? found.size ?? 0),
    // Nothing was sent for this run.
    bytesWritten: 0,
    checksum: input.checksum,
    reusedFrom: from,
  };
}

/**
 * The image of the release's name an earlier run made. The earlier runs released the same
 * build (a retry pins it), so the image's labels (which cannot hold a 64-digit checksum) need
 * not say which. One failed or deprecated is left alone; one still PENDING is adopted but not
 * returned: the create step finds it by name and token and waits for it.
 */
async function adoptImage(c: GceClients, input: AdoptReusableInput): Promise<Reused<ImageRef> | undefined> {
  const image = await getImage(c, input.imageName);
  if (!image?.labels) return undefined;
  const from = adoptableFrom(
    input,
    image.labels[LABEL.releaseToken],
    image.labels[LABEL.reusedFrom],
    labelValue,
  );
  if (!from || (image.status !== 'READY' && image.status !== 'PENDING')) return undefined;
  if (image.deprecated?.state && image.deprecated.state !== 'ACTIVE') return undefined;
  if (image.labels[LABEL.releaseToken] !== labelValue(input.release.releaseToken))
    await relabel(c, image, input, from);
  if (image.status !== 'READY') return undefined;
  return {
    region: GCE_GLOBAL_REGION,
    imageId: input.imageName,
    imageName: input.imageName,
    reusedFrom: from,
  };
}

/**
 * images.setLabels with the fingerprint just read (Google refuses a stale one with 412, and
 * the activity's retry reads it again): https://cloud.google.com/compute/docs/reference/rest/v1/images/setLabels
 */
async function relabel(c: GceClients, image: Image, input: AdoptReusableInput, from: string): Promise<void> {
  const labels = {
    ...image.labels,
    [LABEL.releaseToken]: labelValue(input.release.releaseToken),
    [LABEL.reusedFrom]: labelValue(from),
  };
  await runOperation(c, `images.setLabels ${image.name}`, () =>
    c.images.setLabels({
      project: c.project,
      resource: image.name!,
      globalSetLabelsRequestResource: { labels, labelFingerprint: image.labelFingerprint ?? null },
    }),
  );
}

const str = (v: unknown) => (typeof v === 'string' ? v : undefined);
