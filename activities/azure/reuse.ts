import type { GalleryImageVersion, Image } from '@azure/arm-compute';
import { azureGalleryImageVersion } from '../../schemas/job/azure-names.js';
import type { AzureImageOptions } from '../../schemas/release-plan.js';
import type { AdoptReusableInput, ImageRef, Reused, ReusableArtifacts, UploadedDisk } from '../provider.js';
import { arm, armGetOrUndefined } from './arm-errors.js';
import { azure } from './azure-errors.js';
import type { AzureClients } from './clients.js';
import { untilDone, type LroSettings } from './lro.js';
import { committedUpload, propertiesOf, RELEASE_TOKEN_KEY } from './page-blob-writer.js';
import { DEPRECATED_TAG, IMAGE_NAME_TAG, TOKEN_TAG } from './tags.js';

/** On what a retry adopted: the earlier run that made it (so a repeated adoption finds it). */
export const REUSED_FROM_TAG = 'imagecastreusedfrom';

/**
 * A retry's head start on Azure: the committed VHD blob `<container>/<name>.vhd` of this
 * build (its source checksum) and the image of that name (the gallery version in every
 * definition, or the managed images with their regional copies) that the earlier runs of the
 * release left, re-tagged with this run's token (blob metadata, resource tags), so this run's
 * upload, create, replicate, cleanup and saga treat them as its own. An image is returned
 * only when every part of it is there and succeeded; parts are adopted anyway (create keeps
 * them and makes the rest). A repeat finds them adopted (`imagecastreusedfrom`).
 */
export async function adoptAzureReusable(
  c: AzureClients,
  input: AdoptReusableInput,
  o: AzureImageOptions,
  lro: LroSettings,
): Promise<ReusableArtifacts> {
  const home = input.regions[0];
  if (home === undefined) return { images: [] };
  const disk = await adoptBlob(c, input, o, home);
  const image = o.gallery
    ? await adoptGalleryVersions(c, input, o.gallery, home, lro)
    : await adoptManagedImages(c, input, o, home, lro);
  return { ...(disk && { disk }), images: image ? [image] : [] };
}

/** Which earlier run made it, when this run may adopt it (or already did). */
function adoptableFrom(input: AdoptReusableInput, token: string | undefined, reusedFrom: string | undefined) {
  if (token && input.earlierTokens.includes(token)) return token;
  return token === input.release.releaseToken ? reusedFrom : undefined;
}

async function adoptBlob(
  c: AzureClients,
  input: AdoptReusableInput,
  o: AzureImageOptions,
  region: string,
): Promise<Reused<UploadedDisk> | undefined> {
  const where = { account: o.storageAccount, container: o.container };
  const blob = c
    .blobService(o.storageAccount)
    .getContainerClient(o.container)
    .getPageBlobClient(`${input.imageName}.vhd`);
  const properties = await propertiesOf(blob, where);
  const meta = properties?.metadata ?? {};
  const from = adoptableFrom(input, meta[RELEASE_TOKEN_KEY], meta[REUSED_FROM_TAG]);
  if (!properties || !from) return undefined;
  // The same checks the upload makes of its own finished blob: this build's, footer written.
  const sourceChecksum = `${input.checksum.algorithm}:${input.checksum.hex.toLowerCase()}`;
  const committed = await committedUpload(blob, properties, sourceChecksum, where);
  if (!committed) return undefined;
  if (meta[RELEASE_TOKEN_KEY] !== input.release.releaseToken) {
    await azure('set blob metadata', where, () =>
      blob.setMetadata(
        { ...meta, [RELEASE_TOKEN_KEY]: input.release.releaseToken, [REUSED_FROM_TAG]: from },
        { conditions: { ifMatch: properties.etag } },
      ),
    );
  }
  // Nothing was sent for this run.
  return {
    region,
    diskId: blob.url,
    sizeBytes: committed.sizeBytes,
    bytesWritten: 0,
    checksum: input.checksum,
    reusedFrom: from,
  };
}

type Tagged = { tags?: Record<string, string> };

function retagged(
  input: AdoptReusableInput,
  resource: Tagged,
  from: string,
): Record<string, string> | undefined {
  if (resource.tags?.[TOKEN_TAG] === input.release.releaseToken) return undefined;
  return { ...resource.tags, [TOKEN_TAG]: input.release.releaseToken, [REUSED_FROM_TAG]: from };
}

async function adoptGalleryVersions(
  c: AzureClients,
  input: AdoptReusableInput,
  g: NonNullable<AzureImageOptions['gallery']>,
  region: string,
  lro: LroSettings,
): Promise<Reused<ImageRef> | undefined> {
  const version = azureGalleryImageVersion(input.imageName);
  if (!version) return undefined;
  const adopted: Array<{ v: GalleryImageVersion; from: string }> = [];
  for (const d of g.definitions) {
    const v = await armGetOrUndefined(`galleryImageVersions.get ${g.name}/${d.name}/${version}`, () =>
      c.compute.galleryImageVersions.get(g.resourceGroup, g.name, d.name, version),
    );
    const from = v && adoptableFrom(input, v.tags?.[TOKEN_TAG], v.tags?.[REUSED_FROM_TAG]);
    // Another image of the same day holds the version: only the one made for this name is ours.
    if (!v || !from || v.tags?.[IMAGE_NAME_TAG] !== input.imageName) continue;
    const tags = retagged(input, v, from);
    if (tags) {
      await untilDone(`galleryImageVersions.update ${g.name}/${d.name}/${version} tags`, () =>
        c.compute.galleryImageVersions.beginUpdate(
          g.resourceGroup,
          g.name,
          d.name,
          version,
          { tags },
          { updateIntervalInMs: lro.pollMs },
        ),
      );
    }
    adopted.push({ v, from });
  }
  const usable = adopted.filter(
    ({ v }) => v.provisioningState === 'Succeeded' && !v.publishingProfile?.excludeFromLatest,
  );
  const first = usable[0];
  if (usable.length !== g.definitions.length || !first?.v.id) return undefined;
  return { region, imageId: first.v.id, imageName: input.imageName, reusedFrom: first.from };
}

/**
 * The managed images `<name>` (and `_uefi`) in the home region, and the regional copies
 * `<name>-<region>` replicate made: adopted copies are kept by this run's replicate step.
 */
async function adoptManagedImages(
  c: AzureClients,
  input: AdoptReusableInput,
  o: AzureImageOptions,
  region: string,
  lro: LroSettings,
): Promise<Reused<ImageRef> | undefined> {
  const homeNames = o.managedImages.map((m) => input.imageName + m.nameSuffix);
  const isCopy = (name: string) => homeNames.some((h) => name.startsWith(`${h}-`));
  const found: Image[] = [];
  await arm(`images.listByResourceGroup ${o.resourceGroup}`, async () => {
    for await (const image of c.compute.images.listByResourceGroup(o.resourceGroup))
      if (image.name && (homeNames.includes(image.name) || isCopy(image.name))) found.push(image);
  });
  const home: Array<{ image: Image; from: string }> = [];
  for (const image of found) {
    const from = adoptableFrom(input, image.tags?.[TOKEN_TAG], image.tags?.[REUSED_FROM_TAG]);
    if (!from || image.tags?.[DEPRECATED_TAG]) continue;
    const tags = retagged(input, image, from);
    if (tags) {
      await untilDone(`images.update ${image.name} tags`, () =>
        c.compute.images.beginUpdate(
          o.resourceGroup,
          image.name!,
          { tags },
          { updateIntervalInMs: lro.pollMs },
        ),
      );
    }
    if (homeNames.includes(image.name!) && image.provisioningState === 'Succeeded')
      home.push({ image, from });
  }
  // The release's image is the first name (mash's order), once every generation is there.
  const first = home.find((h) => h.image.name === homeNames[0]);
  if (home.length !== homeNames.length || !first?.image.id) return undefined;
  return { region, imageId: first.image.id, imageName: input.imageName, reusedFrom: first.from };
}
