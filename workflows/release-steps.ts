import { notifyReleaseFinished } from './notify-finished.js';
import { ApplicationFailure, patched, upsertSearchAttributes } from '@temporalio/workflow';
import { RELEASE_STEPS, type ReleaseStep } from '../schemas/steps.js';
import { searchAttributeKeys as keys } from '../schemas/search-attributes.js';
import type { ReleasePlan } from '../schemas/release-plan.js';
import type { ImageRef, ReleaseRef, ResolvedImageSource, UploadedDisk } from '../activities/provider.js';
import type { CatalogFacts } from '../activities/cloud-activities.js';
import { cloudActivities, releaseActivities } from './activity-options.js';
import type { ReleaseStatusBoard } from './release-status.js';
import type { Compensations } from './saga.js';
import { type ReleaseDecisions } from './release-decisions.js';
import { adoptEarlierRuns, NOTHING_REUSED, REUSE_PATCH, reusedNote, type ReusedByRetry } from './reuse-earlier-runs.js';
import { rawImageUploadStep } from './raw-image-upload.js';
import { PREFLIGHT_CHECKS_PATCH, preflightFailed, preflightPlans } from './preflight.js';
import { FORCE_REPLACE_PATCH, takeName } from './force-replace.js';
import { uploadQueueOf } from '../schemas/worker-queues.js';
import { UPLOAD_QUEUE_PATCH } from './upload-queue-patch.js';
import { checkImageLists, keepsImageLists, updateImageLists } from './image-lists.js';
import { deprecateStep, publishStep, replicateStep } from './release-region-steps.js';
import { testStep } from './image-test-step.js';
import { checksumPending, checksumWords, streamChecksumStatus, withComputedChecksum } from './stream-checksum.js';

export { UPLOAD_QUEUE_PATCH };
export { describeSharing } from './release-region-steps.js';

export interface ReleaseStepsContext {
  plan: ReleasePlan;
  release: ReleaseRef;
  board: ReleaseStatusBoard;
  /** Pushes the board to search attributes and the Web UI's details panel. */
  report: () => void;
  compensations: Compensations;
  /** A person's decisions on a blocked step (resume, skip, abort). */
  decisions: ReleaseDecisions;
  workflowsQueue: string;
  cloudQueue: string;
  /** A retry: the earlier runs of this release, newest first, whose leftovers it may adopt. */
  earlierRuns?: string[];
  /** A source that published no checksum: the upload computed it (the build query and result carry it from then on). */
  onChecksumComputed?(source: ResolvedImageSource): void;
}

/** The download step: which build of the image this release ships, and the image's name. */
export async function resolveBuild(
  ctx: Pick<ReleaseStepsContext, 'plan' | 'board' | 'report' | 'workflowsQueue'>,
  date: string,
): Promise<{ source: ResolvedImageSource; imageName: string }> {
  const { plan, board } = ctx;
  board.start('download', `looking for ${plan.source.image} in ${plan.source.downloadUrl}`);
  ctx.report();
  const { source } = releaseActivities(ctx.workflowsQueue, plan.source.conditionsWaitSeconds, `download: find a build of ${plan.source.image}`);
  const resolved = await source.resolveSource({ plan, date });
  useBuild(board, resolved.source, resolved.imageName);
  return resolved;
}

/** Records the chosen build on the board (and in the Web UI's list), whoever chose it. */
export function useBuild(board: ReleaseStatusBoard, source: ResolvedImageSource, imageName: string, chosenBy?: string): void {
  board.status.imageName = imageName;
  upsertSearchAttributes([{ key: keys.imageName, value: imageName }]);
  const what = `${source.fileName} (${checksumWords(source)})`;
  if (chosenBy) board.start('download', `build chosen by ${chosenBy}`);
  board.succeed('download', chosenBy ? `${what}, chosen by ${chosenBy}` : what, [source.url]);
}

/** Marks histories whose releases check the image name in every region before uploading. */
export const PREFLIGHT_PATCH = 'preflight-name-check-before-upload';


/** The pipeline's steps, in order; each records what it made and how to undo it. */
export class ReleaseSteps {
  readonly regions: string[];

  constructor(readonly ctx: ReleaseStepsContext) {
    this.regions = [ctx.plan.homeRegion, ...ctx.plan.replicaRegions];
    // Whatever this run half-made (a staging upload, an image not yet recorded) goes last.
    ctx.compensations.add('discard half-made artifacts', () =>
      this.cloud('saga: discard half-made artifacts').discardReleaseArtifacts(ctx.release, this.regions, ctx.plan.imageOptions),
    );
  }

  /** Cloud calls, each with the summary the Web UI shows for it. */
  cloud(summary: string) {
    return cloudActivities(this.ctx.cloudQueue, summary).cloud;
  }

  quick(summary: string) {
    return releaseActivities(this.ctx.workflowsQueue, 0, summary).quick;
  }

  /**
   * Preflight: an image of this name made by another run, in any region the release writes
   * to, is found before the upload (a name clash used to surface only at create, or in the
   * last region, after the slow part).
   */
  async nameClashes(imageName: string): Promise<ImageRef[]> {
    const { release } = this.ctx;
    return this.cloud(`preflight: is ${imageName} free in ${this.regions.join(', ')}`).findNameClashes({
      release,
      imageName,
      regions: this.regions,
      ...this.azureOptions(),
    });
  }

  /**
   * Azure's images live where its options say (resource group, gallery): its lookups need
   * them. Only Azure's inputs carry them, so other clouds' histories replay unchanged.
   */
  azureOptions() {
    const { plan } = this.ctx;
    // force_replace_image on EC2 and local: their copies clear the name in each region.
    const replaces = plan.imageOptions && 'forceReplace' in plan.imageOptions && plan.imageOptions.forceReplace;
    return plan.cloud === 'azure' || replaces ? { options: plan.imageOptions } : {};
  }

  download(date: string) {
    return resolveBuild(this.ctx, date);
  }

  /** Everything after download, honouring `last_service`. */
  async run(resolved: ResolvedImageSource, imageName: string): Promise<void> {
    // A source that published no checksum gets the one its upload computes (below).
    let source = resolved;
    const { plan, release, board, compensations } = this.ctx;
    const facts: CatalogFacts = {
      imageLine: plan.imageLine,
      checksum: `${source.checksum.algorithm}:${source.checksum.hex}`,
      sourceVersion: source.version,
      sourceRelease: source.release,
    };
    if (this.isLast('download')) return this.stopAfter('download');
    const reused = await this.reuseEarlierRuns(source, imageName, facts);

    const streaming = `streaming ${source.fileName} to ${plan.homeRegion}`;
    await checkImageLists(plan, this.ctx.workflowsQueue);
    if (patched(PREFLIGHT_CHECKS_PATCH)) {
      // Every check, every problem at once: a verdict before a byte is uploaded.
      this.begin('upload', `preflight: checking ${plan.cloud} account ${plan.account} in ${this.regions.join(', ')}`);
      const problems = await preflightPlans([plan], imageName, () => this.ctx.cloudQueue, () => release.releaseId);
      if (problems.length > 0) throw preflightFailed(problems);
      board.step('upload').detail = streaming;
      this.ctx.report();
    } else if (patched(PREFLIGHT_PATCH)) {
      this.begin('upload', `checking that ${imageName} is free in ${this.regions.join(', ')}`);
      const clashes = await this.nameClashes(imageName);
      // GCE's and Azure's force_replace_image: the create step replaces the other release's image.
      const o = plan.imageOptions;
      const replaces = (o?.cloud === 'gce' || o?.cloud === 'azure') && o.forceReplace;
      if (clashes.length > 0 && !replaces) throw nameTaken(imageName, `${plan.cloud} account ${plan.account}`, clashes);
      board.step('upload').detail = streaming;
      this.ctx.report();
    } else {
      this.begin('upload', streaming);
    }
    let disk = reused.disk;
    if (disk || reused.home) {
      board.succeed('upload', disk ? `${reusedNote(board, disk.diskId)}: nothing uploaded` : 'nothing uploaded: the image is reused', disk && [disk.diskId]);
    } else {
      // Uploads have a queue (and slots) of their own: they never wait behind copies, nor starve them.
      const uploadQueue = patched(UPLOAD_QUEUE_PATCH) ? uploadQueueOf(this.ctx.cloudQueue) : this.ctx.cloudQueue;
      const uploaded = await cloudActivities(uploadQueue, `upload ${source.fileName} to ${plan.homeRegion}`).upload.uploadImage({
        release,
        source,
        region: plan.homeRegion,
        imageName,
        options: plan.imageOptions,
        // image_lists without a raw upload: the build's sha512 as served, from this same stream.
        ...(keepsImageLists(plan) && !plan.rawImageUpload && { servedSha512: true }),
      });
      compensations.add(`delete disk ${uploaded.diskId}`, () => this.cloud(`saga: delete disk ${uploaded.diskId}`).deleteDisk(release, uploaded));
      const pending = checksumPending(source);
      const checked = pending ? `read (its sha256 computed: nothing published to verify it against)` : 'verified';
      board.succeed('upload', `${uploaded.sizeBytes} bytes ${checked}, ${uploaded.bytesWritten} written`, [uploaded.diskId]);
      disk = uploaded;
      if (pending) {
        // From here the computed digest is the build's checksum: catalog rows, image tags,
        // the raw upload (which checks its own read against it), image lists, a retry's pin.
        source = withComputedChecksum(source, uploaded);
        facts.checksum = `${source.checksum.algorithm}:${source.checksum.hex}`;
        this.ctx.onChecksumComputed?.(source);
      }
    }
    const computed = streamChecksumStatus(source);
    if (computed) board.status.checksum = computed;
    if (this.isLast('upload')) return this.stopAfter('upload');

    const createInput = {
      release,
      // Uploaded above, or adopted (only a reused image comes without a disk).
      disk: disk!,
      imageName,
      description: plan.description,
      architecture: plan.architecture,
      bootFirmware: plan.bootFirmware,
      source,
      catalog: facts,
      options: plan.imageOptions,
    };
    let home = reused.home;
    if (home) {
      this.begin('create', `reusing ${home.imageId}`);
      board.status.images.push(home);
      board.succeed('create', `${reusedNote(board, home.imageId)} in ${home.region}`, [home.imageId]);
    } else {
      this.begin('create', `registering ${imageName}`);
      const made = await this.cloud(`create ${imageName} in ${plan.homeRegion}`).createImage(createInput);
      compensations.add(`delete image ${made.imageId}`, () => this.cloud(`saga: delete image ${made.imageId}`).deleteImage(release, made));
      board.status.images.push(made);
      board.succeed('create', `${made.imageId} in ${made.region}`, [made.imageId]);
      home = made;
    }
    if (this.isLast('create')) return this.stopAfter('create', disk);

    await testStep(this, home);
    // force_replace_image (EC2, local): the tested stand-in takes the name; not in a test-only run that removes its images.
    const testOnly = this.isLast('test') && plan.cleanupImagesAfterTest;
    if (home.finalName && !testOnly && patched(FORCE_REPLACE_PATCH)) home = await takeName(this.ctx, home, createInput);
    if (this.isLast('test')) return this.stopAfter('test', disk);
    await rawImageUploadStep({ ...this.ctx, queuePrefix: this.ctx.cloudQueue.slice(0, -plan.cloud.length) }, source, imageName);
    if (this.isLast('raw_image_upload')) return this.stopAfter('raw_image_upload', disk);

    await replicateStep(this, home, facts, reused.replicas);
    if (this.isLast('replicate')) return this.stopAfter('replicate', disk);

    await publishStep(this);
    await updateImageLists(this.ctx, source, imageName, disk);
    if (this.isLast('publish')) return this.stopAfter('publish', disk);

    await deprecateStep(this);
    await this.cleanup(disk);
  }

  /** A retry adopts what its earlier runs left intact (issue 14); other releases, and older histories, reuse nothing. */
  private async reuseEarlierRuns(source: ResolvedImageSource, imageName: string, facts: CatalogFacts): Promise<ReusedByRetry> {
    const { plan, earlierRuns } = this.ctx;
    if (!earlierRuns?.length || !patched(REUSE_PATCH)) return NOTHING_REUSED;
    // Adoption matches an earlier upload by the build's checksum. Unknown yet means no earlier
    // run completed an upload (one that did left its computed checksum in this run's pin):
    // nothing complete to adopt, and the upload below starts afresh.
    if (checksumPending(source)) return NOTHING_REUSED;
    this.begin('upload', `looking for what the earlier runs left of ${imageName}`);
    const replicates = RELEASE_STEPS.indexOf(plan.lastService) >= RELEASE_STEPS.indexOf('replicate');
    return adoptEarlierRuns({ ...this.ctx, earlierRuns }, replicates ? this.regions : [plan.homeRegion], source, imageName, facts);
  }

  begin(step: ReleaseStep, detail?: string): void {
    this.ctx.board.start(step, detail);
    this.ctx.report();
  }

  private isLast(step: ReleaseStep): boolean {
    return this.ctx.plan.lastService === step;
  }

  /** What a step run as one unit per region needs (blocking, decisions, the notification). */
  unitsContext() {
    const { plan, board, workflowsQueue } = this.ctx;
    return { ...this.ctx, policy: plan.onFailure, notify: () => notifyReleaseFinished(plan, board, workflowsQueue) };
  }

  private async cleanup(disk?: UploadedDisk, deleteImages = false): Promise<void> {
    const { release, board } = this.ctx;
    this.begin('cleanup', 'removing intermediate artifacts');
    if (disk) await this.cloud(`cleanup: delete disk ${disk.diskId}`).deleteDisk(release, disk);
    if (deleteImages) {
      await Promise.all(board.status.images.map((image) => this.cloud(`cleanup: delete test image ${image.imageId}`).deleteImage(release, image)));
    }
    board.succeed('cleanup', deleteImages ? 'removed the uploaded disk and the test-only images' : 'removed the uploaded disk');
  }

  /** `last_service` reached: later steps are skipped; what was made is kept (mash's rules). */
  private async stopAfter(step: ReleaseStep, disk?: UploadedDisk): Promise<void> {
    const { plan, release, board, compensations } = this.ctx;
    const later = RELEASE_STEPS.slice(RELEASE_STEPS.indexOf(step) + 1).filter((s) => s !== 'cleanup');
    for (const s of later) if (board.step(s).state === 'pending') board.skip(s, `after last_service "${step}"`);
    // mash: a test-only run (last_service test) removes its images unless cleanup_images is false.
    const deleteImages = step === 'test' && plan.cleanupImagesAfterTest;
    if (board.status.images.length && !deleteImages) {
      await this.quick(`catalog: keep the images made up to ${step} (private unless published)`).activateRelease({ releaseToken: release.releaseToken, visibility: 'private' });
    }
    compensations.forgetAll();
    if (!disk) return board.skip('cleanup', `nothing to clean up after last_service "${step}"`);
    await this.cleanup(disk, deleteImages);
  }
}

/** A name clash: nothing was uploaded; say where, and what to do. */
function nameTaken(imageName: string, where: string, clashes: ImageRef[]): ApplicationFailure {
  // Azure gallery versions are named by the date in the name: another image of that day clashes.
  const regions = clashes.map((c) => `${c.region} (${c.imageId}${c.imageName !== imageName ? `, made as ${c.imageName}` : ''})`).join(', ');
  return ApplicationFailure.create({
    type: 'ImageAlreadyExists',
    nonRetryable: true,
    message: `an image named "${imageName}" already exists in ${where}: ${regions}; nothing was uploaded. Choose another cloud_image_name (e.g. with {date} or {release}) or remove that image`,
    details: [{ imageName, clashes }],
  });
}
