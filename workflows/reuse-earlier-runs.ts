import type { ReleasePlan } from '../schemas/release-plan.js';
import type { ImageRef, ReleaseRef, ResolvedImageSource, UploadedDisk } from '../activities/provider.js';
import type { CatalogFacts } from '../activities/cloud-activities.js';
import { cloudActivities } from './activity-options.js';
import type { ReleaseStatusBoard, ReusedArtifact } from './release-status.js';
import type { Compensations } from './saga.js';

/** Marks histories whose retried releases adopt what their earlier runs left intact (issue 14). */
export const REUSE_PATCH = 'retry-reuses-earlier-artifacts';

/** What a retry adopted: the upload, create and replicate steps skip what is here. */
export interface ReusedByRetry {
  disk?: UploadedDisk;
  home?: ImageRef;
  /** Copies in replica regions: the replicate step copies only to the others. */
  replicas: ImageRef[];
}

export const NOTHING_REUSED: ReusedByRetry = { replicas: [] };

export interface ReuseContext {
  plan: ReleasePlan;
  release: ReleaseRef;
  board: ReleaseStatusBoard;
  compensations: Compensations;
  cloudQueue: string;
  /** The earlier runs (run ids = their tokens) of this release, newest first. */
  earlierRuns: string[];
}

/**
 * Before the upload: asks the cloud for the disk and images the earlier runs left intact
 * (a terminated run, a failed cleanup) and adopts them. From here they are this run's: its
 * saga removes them if it fails, its cleanup deletes the disk. Copies are adopted only where
 * this run will replicate.
 */
export async function adoptEarlierRuns(
  ctx: ReuseContext,
  regions: string[],
  source: ResolvedImageSource,
  imageName: string,
  facts: CatalogFacts,
): Promise<ReusedByRetry> {
  const { plan, release, board, compensations } = ctx;
  const replicates = plan.cloud !== 'gce' && plan.cloud !== 'azure';
  const where = replicates ? regions : [plan.homeRegion];
  const summary = `retry: reuse what runs ${ctx.earlierRuns.join(', ')} left of ${imageName}`;
  const found = await cloudActivities(ctx.cloudQueue, summary).cloud.adoptReusable({
    release,
    earlierTokens: ctx.earlierRuns,
    imageName,
    checksum: source.checksum,
    regions: where,
    catalog: facts,
    options: plan.imageOptions,
  });
  const reused: ReusedArtifact[] = [];
  let disk: UploadedDisk | undefined;
  // The saga runs newest first: images go before the disk they may be made of.
  if (found.disk) {
    const { reusedFrom, ...kept } = found.disk;
    disk = kept;
    reused.push({ kind: 'disk', region: kept.region, id: kept.diskId, fromRun: reusedFrom });
    compensations.add(`delete disk ${kept.diskId}`, () =>
      cloud(ctx, `saga: delete disk ${kept.diskId}`).deleteDisk(release, kept),
    );
  }
  const images = found.images.map(({ reusedFrom, ...image }) => {
    reused.push({ kind: 'image', region: image.region, id: image.imageId, fromRun: reusedFrom });
    compensations.add(`delete image ${image.imageId}`, () =>
      cloud(ctx, `saga: delete image ${image.imageId}`).deleteImage(release, image),
    );
    return image;
  });
  if (reused.length) board.status.reused = reused;
  const home = images.find((i) => i.region === plan.homeRegion);
  return {
    ...(disk && { disk }),
    ...(home && { home }),
    replicas: images.filter((i) => plan.replicaRegions.includes(i.region)),
  };
}

function cloud(ctx: ReuseContext, summary: string) {
  return cloudActivities(ctx.cloudQueue, summary).cloud;
}

/** `reused img-… from run …`, for the steps' details. */
export function reusedNote(board: ReleaseStatusBoard, id: string): string {
  const item = board.status.reused?.find((r) => r.id === id);
  return `reused ${id} from the earlier run ${item?.fromRun ?? '?'}`;
}
