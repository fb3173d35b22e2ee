import type { CreateImageInput, ImageRef } from '../activities/provider.js';
import type { CatalogFacts } from '../activities/cloud-activities.js';
import { cloudActivities } from './activity-options.js';
import type { ReleaseStepsContext } from './release-steps.js';

/** Marks histories in which a tested stand-in image (force_replace_image on EC2 or local) takes its name. */
export const FORCE_REPLACE_PATCH = 'force-replace-after-test';

/**
 * force_replace_image where names are unique per region (EC2, local): the new image was made
 * under a stand-in name and has passed its tests; now the image holding the name goes and the
 * new one takes it, from the same disk. From here the saga removes the renamed image; the
 * replaced one is gone for good (that is what the job asked for).
 */
export async function takeName(
  ctx: Pick<ReleaseStepsContext, 'board' | 'report' | 'compensations' | 'cloudQueue' | 'release'>,
  standIn: ImageRef,
  create: CreateImageInput & { catalog: CatalogFacts },
): Promise<ImageRef> {
  const { board, release, compensations } = ctx;
  const name = standIn.finalName!;
  const cloud = (summary: string) => cloudActivities(ctx.cloudQueue, summary).cloud;
  const { image, replaced } = await cloud(
    `replace ${name} with ${standIn.imageId} in ${standIn.region}`,
  ).completeReplacement({ ...create, standIn });
  compensations.add(`delete image ${image.imageId}`, () =>
    cloud(`saga: delete image ${image.imageId}`).deleteImage(release, image),
  );
  board.status.images = board.status.images.map((i) => (i.imageId === standIn.imageId ? image : i));
  const createStep = board.step('create');
  const what = replaced.length
    ? `replaced ${replaced.map((r) => r.imageId).join(', ')}`
    : 'no image held the name any more';
  createStep.detail = `${image.imageId} in ${image.region} (tested as ${standIn.imageName}; ${what})`;
  createStep.produced = [image.imageId];
  ctx.report();
  return image;
}
