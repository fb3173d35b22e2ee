import { recordImageTests, recordUpload } from './common/worker-metrics.js';
import { Context } from '@temporalio/activity';
import type {
  AdoptReusableInput,
  CloudProvider,
  CompleteReplacementInput,
  CreateImageInput,
  DiskWriter,
  DeprecateImageInput,
  ImageRef,
  PreflightInput,
  PublishImageInput,
  ReleaseRef,
  ReplicateImageInput,
  ResolvedImageSource,
  ReusableArtifacts,
  UploadedDisk,
  WriterCheckpoint,
} from './provider.js';
import type { CloudImageOptions } from '../schemas/release-plan.js';
import type { PreflightProblem } from '../schemas/preflight.js';
import { runPreflight } from './common/preflight.js';
import type { ImageCatalog, NewCatalogImage } from './common/catalog/catalog.js';
import { testImage, type TestImageInput, type TestImageOutcome, type TestImageSettings } from './common/image-tests/test-image.js';
import { pairWithReplacements, type Replacement } from './common/release-activities.js';
import {
  transferImage,
  type TransferProgress,
  type TransferResumeState,
} from './common/transfer/transfer-image.js';

export interface CloudActivityDeps {
  provider: CloudProvider;
  catalog: ImageCatalog;
  imageTests?: TestImageSettings;
}

export interface UploadImageInput {
  release: ReleaseRef;
  source: ResolvedImageSource;
  region: string;
  /** The image name the upload is for (clouds that name the upload after it). */
  imageName?: string;
  options?: CloudImageOptions;
  /** Image lists want the file's sha512 and size as served: computed in the upload's one pass. */
  servedSha512?: boolean;
}

/** Heartbeat details of an upload: resume state for a retry, figures for people watching. */
export interface UploadHeartbeat extends TransferResumeState {
  percent?: number;
  sourceBytesRead: number;
  sourceBytesTotal?: number;
  /** Bytes sent so far, for people (the resume count `bytesWritten` covers only the written prefix). */
  bytesSent: number;
  /** The writer's own resume state at `diskOffset` (a resumable session), when it keeps one. */
  writer?: WriterCheckpoint;
}

/** Catalog facts an image-making step records next to the cloud call. */
export interface CatalogFacts {
  imageLine: string;
  checksum: string;
  sourceVersion?: string;
  sourceRelease?: string;
}

/**
 * The activities every cloud queue serves, the same names on every queue: the worker for
 * `imagecast-<cloud>` builds them around that cloud's provider, so the workflow stays
 * cloud-neutral. Each is idempotent because the provider calls are.
 */
export function createCloudActivities({ provider, catalog, imageTests = {} }: CloudActivityDeps) {
  async function recordImage(release: ReleaseRef, image: ImageRef, facts: CatalogFacts): Promise<void> {
    await catalog.recordImage(catalogRow(release, image, facts));
  }

  return {
    /** Download → checksum → upload in one streaming pass, resumed from the last heartbeat. */
    async uploadImage({ release, source, region, imageName, options, servedSha512 }: UploadImageInput): Promise<UploadedDisk> {
      const context = Context.current();
      const resume = context.info.heartbeatDetails as UploadHeartbeat | undefined;
      let lastDetails: UploadHeartbeat | undefined;
      const opened = await provider.openDiskWriter({
        release,
        region,
        // Empty hex for a source that published none: writers record the checksum the commit
        // hands them (verified, or computed by this transfer), not this one.
        checksum: source.checksum,
        resumeFromOffset: resume?.diskOffset ?? 0,
        ...(resume?.writer && { checkpoint: resume.writer }),
        ...(imageName && { imageName }),
        diskSizeBytes: source.compression === 'none' ? source.sizeBytes : undefined,
        options,
      });
      const heartbeat = (progress: TransferProgress) => {
        const details: UploadHeartbeat = {
          ...progress.resume,
          sourceBytesRead: progress.sourceBytesRead,
          sourceBytesTotal: progress.sourceBytesTotal,
          bytesSent: progress.bytesWritten,
          percent: progress.sourceBytesTotal
            ? Math.floor((100 * progress.sourceBytesRead) / progress.sourceBytesTotal)
            : undefined,
        };
        const checkpoint = opened.checkpoint?.(progress.resume.diskOffset);
        if (checkpoint) details.writer = checkpoint;
        lastDetails = details;
        context.heartbeat(details);
      };
      // Committing may wait on the cloud for minutes (an import task): keep the progress,
      // which says where a retry resumes, as the heartbeat while it does.
      const writer = heartbeatingCommit(opened, () => context.heartbeat(lastDetails));
      const started = Date.now();
      try {
        const { extraDigestHex, sourceBytesRead, ...disk } = await transferImage({
          source,
          writer,
          // Resume only where the writer still has the earlier attempt's partial upload.
          resume:
            resume && writer.resumeOffset === resume.diskOffset && resume.diskOffset > 0
              ? {
                  sourceOffset: resume.sourceOffset,
                  diskOffset: resume.diskOffset,
                  prefixChecksum: resume.prefixChecksum,
                  hashState: resume.hashState,
                  bytesWritten: resume.bytesWritten,
                }
              : undefined,
          signal: context.cancellationSignal,
          onProgress: heartbeat,
          // Image lists publish the file's sha512 as served; a sha512 source's own hash is it.
          ...(servedSha512 && source.checksum.algorithm !== 'sha512' && { extraDigest: 'sha512' as const }),
        });
        recordUpload(release.cloud, disk, (Date.now() - started) / 1000);
        if (!servedSha512) return disk;
        const sha512 = extraDigestHex ?? source.checksum.hex.toLowerCase();
        return { ...disk, served: { sizeBytes: sourceBytesRead, sha512 } };
      } catch (error) {
        // A cancelled release wants nothing left behind; a timed-out or shut-down attempt
        // keeps its partial upload so the retry resumes from it.
        if (context.cancellationDetails?.cancelRequested) await writer.abort();
        throw error;
      }
    },

    async createImage(input: CreateImageInput & { catalog: CatalogFacts }): Promise<ImageRef> {
      const { catalog: facts, ...create } = input;
      const image = await provider.createImage(create);
      await recordImage(input.release, image, facts);
      return image;
    },

    async replicateImage(input: ReplicateImageInput & { catalog: CatalogFacts }): Promise<ImageRef> {
      const { catalog: facts, ...replicate } = input;
      const image = await provider.replicateImage(replicate);
      await recordImage(input.release, image, facts);
      return image;
    },

    /**
     * A retry's head start: what the earlier runs of this release left intact (the uploaded
     * disk, images of this name and build), adopted as this run's in the cloud and the catalog.
     */
    async adoptReusable(input: AdoptReusableInput & { catalog: CatalogFacts }): Promise<ReusableArtifacts> {
      const { catalog: facts, ...adopt } = input;
      if (!provider.adoptReusable || adopt.earlierTokens.length === 0) return { images: [] };
      const found = await provider.adoptReusable(adopt);
      for (const { reusedFrom: _from, ...image } of found.images) {
        await catalog.adoptImage(catalogRow(input.release, image, facts));
      }
      return found;
    },

    /**
     * force_replace_image after the tests (EC2, local): the stand-in image takes the name and
     * the image it replaces goes; the catalog follows (the stand-in and the replaced image deleted).
     */
    async completeReplacement(input: CompleteReplacementInput & { catalog: CatalogFacts }): Promise<{ image: ImageRef; replaced: ImageRef[] }> {
      const { catalog: facts, ...replacement } = input;
      if (!provider.completeReplacement) throw new Error(`internal: ${provider.cloud} has no stand-in images to complete`);
      const { image, replaced } = await provider.completeReplacement(replacement);
      const { release, standIn } = input;
      const deleted = [...replaced, ...(image.imageId === standIn.imageId ? [] : [standIn])];
      for (const gone of deleted) await catalog.markDeleted({ cloud: release.cloud, account: release.account, region: gone.region, imageId: gone.imageId });
      const key = { cloud: release.cloud, account: release.account, region: image.region, imageId: image.imageId };
      if (image.imageId === standIn.imageId) await catalog.renameImage({ ...key, imageName: image.imageName });
      else await recordImage(release, image, facts);
      return { image, replaced };
    },

    /** The test step: a test instance, the job's tests over SSH, the instance always removed. */
    async testImage(input: TestImageInput): Promise<TestImageOutcome> {
      const outcome = await testImage(provider, input, imageTests);
      recordImageTests(input.release.cloud, outcome.results);
      // Into the catalog before the workflow judges it: a failed run is kept as the reason.
      await catalog.recordTestRun({
        cloud: input.release.cloud,
        account: input.release.account,
        region: input.image.region,
        imageId: input.image.imageId,
        releaseId: input.release.releaseId,
        releaseToken: input.release.releaseToken,
        instanceId: outcome.instanceId,
        passed: outcome.results.every((r) => r.passed),
        ...(outcome.sshAfterMs !== undefined && { sshAfterMs: outcome.sshAfterMs }),
        results: outcome.results,
      });
      return outcome;
    },

    async publishImage(input: PublishImageInput): Promise<void> {
      await provider.publishImage(input);
    },

    /**
     * Preflight, before anything is uploaded: images of this name made by another run, in
     * any region the release will write to (names are unique per account and region). A
     * retry of this run finds its own images, which are not clashes.
     */
    async findNameClashes(input: { release: ReleaseRef; imageName: string; regions: string[]; options?: CloudImageOptions }): Promise<ImageRef[]> {
      const found = await Promise.all(
        input.regions.map((region) => provider.findImageByName(input.release.account, region, input.imageName, input.options)),
      );
      return found
        .filter((image): image is NonNullable<typeof image> => image !== undefined && image.releaseToken !== input.release.releaseToken)
        .map(({ region, imageId, imageName }) => ({ region, imageId, imageName }));
    },

    /** Preflight of one account: every problem the release would meet, none thrown (see runPreflight). */
    async preflight(input: PreflightInput): Promise<PreflightProblem[]> {
      return runPreflight(provider, input);
    },

    /** The images named by `old_cloud_image_name`, in every region of the release, each paired with its replacement. */
    async findImagesByName(input: {
      release: ReleaseRef;
      imageName: string;
      regions: string[];
      newImages: ImageRef[];
      options?: CloudImageOptions;
    }): Promise<Replacement[]> {
      const found = await Promise.all(
        input.regions.map((region) =>
          provider.findImageByName(input.release.account, region, input.imageName, input.options),
        ),
      );
      const old = found.filter((image): image is NonNullable<typeof image> => image !== undefined);
      return pairWithReplacements(
        old.map(({ region, imageId, imageName }) => ({ region, imageId, imageName })),
        input.newImages,
      );
    },

    async deprecateImage(input: DeprecateImageInput): Promise<void> {
      const deprecated = await provider.deprecateImage(input);
      await catalog.markDeprecated({
        ...(deprecated?.deleteAfter && { deleteAfter: deprecated.deleteAfter }),
        cloud: input.release.cloud,
        account: input.release.account,
        region: input.image.region,
        imageId: input.image.imageId,
        replacementImageId: input.replacement.imageId,
        replacementImageName: input.replacement.imageName,
      });
    },

    async deleteImage(release: ReleaseRef, image: ImageRef): Promise<void> {
      await provider.deleteImage(release, image);
      await catalog.markDeleted({
        cloud: release.cloud,
        account: release.account,
        region: image.region,
        imageId: image.imageId,
      });
    },

    async deleteDisk(release: ReleaseRef, disk: Pick<UploadedDisk, 'region' | 'diskId'>): Promise<void> {
      await provider.deleteDisk(release, disk);
    },

    /** The saga's safety net: whatever this run half-made, in any of its regions, goes. */
    async discardReleaseArtifacts(release: ReleaseRef, regions: string[], options?: CloudImageOptions): Promise<void> {
      await provider.discardReleaseArtifacts(release, regions, options);
      await catalog.discardRelease(release.releaseToken);
    },
  };
}

export type CloudActivities = ReturnType<typeof createCloudActivities>;

function catalogRow(release: ReleaseRef, image: ImageRef, facts: CatalogFacts): NewCatalogImage {
  return {
    cloud: release.cloud,
    account: release.account,
    region: image.region,
    imageId: image.imageId,
    imageName: image.imageName,
    imageLine: facts.imageLine,
    releaseId: release.releaseId,
    releaseToken: release.releaseToken,
    checksum: facts.checksum,
    sourceVersion: facts.sourceVersion,
    sourceRelease: facts.sourceRelease,
  };
}

/** The writer, heartbeating every 10 s while its commit runs. */
function heartbeatingCommit(writer: DiskWriter, beat: () => void): DiskWriter {
  return {
    blockSize: writer.blockSize,
    maxConcurrentWrites: writer.maxConcurrentWrites,
    zeroBlocksMayBeSkipped: writer.zeroBlocksMayBeSkipped,
    resumeOffset: writer.resumeOffset,
    writeBlock: (offset, block) => writer.writeBlock(offset, block),
    ...(writer.checkpoint && { checkpoint: (diskOffset: number) => writer.checkpoint!(diskOffset) }),
    abort: () => writer.abort(),
    async commit(sizeBytes, bytesWritten, checksum) {
      const timer = setInterval(beat, 10_000);
      try {
        return await writer.commit(sizeBytes, bytesWritten, checksum);
      } finally {
        clearInterval(timer);
      }
    },
  };
}
