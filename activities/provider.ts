import type { CloudName } from '../schemas/steps.js';
import type { CloudImageOptions } from '../schemas/release-plan.js';
import type { PreflightProblem } from '../schemas/preflight.js';

/**
 * What the download step resolved: one concrete build of the image, its checksum and the
 * facts conditions were checked against. Plain data: it travels through workflow history.
 */
export interface ResolvedImageSource {
  /** Absolute URL of the image file (http, https, file, or s3://BUCKET/KEY with `downloadAccount`). */
  url: string;
  /** s3:// sources: the EC2 account (its name only) whose credentials read the object. */
  downloadAccount?: string;
  /** s3:// sources: the object's ETag when it was resolved; the upload reads only that object (If-Match). */
  etag?: string;
  fileName: string;
  /** Bytes of the file as served (compressed size for .xz/.gz), when the server says. */
  sizeBytes?: number;
  compression: 'none' | 'xz' | 'gz';
  /** What the decompressed file holds: a raw disk (absent), or a fixed VHD (kiwi's `.vhdfixed.xz`: the disk and a 512-byte footer). */
  format?: 'vhdfixed';
  checksum: { algorithm: 'sha256' | 'sha512'; hex: string };
  /**
   * 'stream': nothing published a checksum (an S3 object with no `<key>.sha256` and no
   * SHA-256 stored by S3). `checksum.hex` is empty until the upload computes the sha256 of
   * the bytes it reads; that digest is then the build's checksum, computed, NOT verified
   * (a corrupted read goes undetected). A later read of the same build (a retry pinned to it,
   * the raw upload) is checked against it. Absent: a published checksum the upload verifies.
   */
  checksumFrom?: 'stream';
  /** Kiwi image version (e.g. 15.6.0) and OBS build release (e.g. 1.42), when the name carries them. */
  version?: string;
  release?: string;
  /** Packages manifest facts used by conditions; kept small (count only). */
  packageCount?: number;
  /** When the build was made, as the server says (`Last-Modified`; a file's mtime): `use_build_time`'s date. */
  builtAt?: string;
}

/** Identifies one release run: deterministic, so a retried activity finds what it already made. */
export interface ReleaseRef {
  /** The workflow id (one per image line and day). */
  releaseId: string;
  /** Unique per workflow run; the tag every artifact of this run carries. */
  releaseToken: string;
  cloud: CloudName;
  account: string;
}

/** A disk the upload step left in the cloud (a snapshot, a blob, a bucket object). */
export interface UploadedDisk {
  region: string;
  /** Cloud id of the disk (local: snapshot id; EC2: snap-…; GCE: gs:// object; Azure: blob URL). */
  diskId: string;
  sizeBytes: number;
  /** Bytes actually sent to the cloud (zero blocks skipped where the target allows). */
  bytesWritten: number;
  checksum: { algorithm: 'sha256' | 'sha512'; hex: string };
  /** The image file as served (before decompression), when the upload was asked for it (image lists). */
  served?: { sizeBytes: number; sha512: string };
}

/** An image in one region of one account. */
export interface ImageRef {
  region: string;
  /** Set where a release spans several accounts (the parent of per-account releases). */
  account?: string;
  imageId: string;
  imageName: string;
  /**
   * force_replace_image: the name was taken, so the image was made under a stand-in name;
   * once it is tested, completeReplacement gives it this one. Absent otherwise.
   */
  finalName?: string;
}

/**
 * Where an upload writes its blocks. The transfer calls writeBlock for every block it wants
 * written, in any order and up to `maxConcurrentWrites` at once; blocks are `blockSize`
 * bytes except the last. Nothing is visible as a disk until commit().
 */
export interface DiskWriter {
  readonly blockSize: number;
  readonly maxConcurrentWrites: number;
  /** True where an unwritten block reads as zeros (sparse file, EBS snapshot, page blob). */
  readonly zeroBlocksMayBeSkipped: boolean;
  /**
   * Where this writer can resume: the requested offset when the earlier attempt's partial
   * upload is still there, 0 when it is gone (the transfer then starts over).
   */
  readonly resumeOffset: number;
  writeBlock(offset: number, block: Buffer): Promise<void>;
  /**
   * What a retry needs besides the disk offset to continue this upload (a resumable
   * session and where it stood), for the upload's heartbeat: the state once every block
   * below `diskOffset` is written. Writers that find their earlier attempt in the cloud
   * (by name or token) need none.
   */
  checkpoint?(diskOffset: number): WriterCheckpoint | undefined;
  /**
   * Called once the whole image is written and its checksum verified. `checksum` is the one
   * the transfer verified, or computed for a source that published none (`checksumFrom:
   * 'stream'`): what the writer records (tags, metadata), not the one it was opened with.
   */
  commit(sizeBytes: number, bytesWritten: number, checksum?: ResolvedImageSource['checksum']): Promise<UploadedDisk>;
  /** Removes everything written so far (checksum mismatch, cancellation). */
  abort(): Promise<void>;
}

/** A writer's own resume state, carried in heartbeat details (plain JSON). */
export type WriterCheckpoint = Record<string, unknown>;

export interface OpenDiskWriterInput {
  release: ReleaseRef;
  region: string;
  /** The source's checksum; its hex is empty for a source that published none (the commit gets the computed one). */
  checksum: ResolvedImageSource['checksum'];
  /** Byte offset (in the uncompressed disk) an earlier attempt had durably written up to. */
  resumeFromOffset: number;
  /** The writer's checkpoint at `resumeFromOffset`, from the earlier attempt's last heartbeat. */
  checkpoint?: WriterCheckpoint;
  /**
   * The image this disk becomes (placeholders filled), where the cloud names the upload
   * after it (GCE's `<name>.tar.gz`). Absent in histories recorded before it was passed.
   */
  imageName?: string;
  /** Size of the disk when known before the transfer (raw sources); clouds that size a volume up front need it. */
  diskSizeBytes?: number;
  options?: CloudImageOptions;
}

export interface CreateImageInput {
  release: ReleaseRef;
  disk: UploadedDisk;
  imageName: string;
  description: string;
  architecture: 'x86_64' | 'aarch64';
  bootFirmware: string[];
  source: ResolvedImageSource;
  options?: CloudImageOptions;
}

export interface ReplicateImageInput {
  release: ReleaseRef;
  source: ImageRef;
  targetRegion: string;
  description: string;
  /** The release's cloud specifics (Azure: the gallery and every target region). Absent in older histories. */
  options?: CloudImageOptions;
}

export interface PublishImageInput {
  release: ReleaseRef;
  image: ImageRef;
  /** 'all', 'none', or account names/ids. */
  shareWith: 'all' | 'none' | string[];
  allowCopy: boolean;
  options?: CloudImageOptions;
}

export interface DeprecateImageInput {
  release: ReleaseRef;
  /** The image being retired. */
  image: ImageRef;
  /** Its replacement in the same region. */
  replacement: ImageRef;
  /** The release's cloud specifics (GCE: months until the deprecated image is deleted). */
  options?: CloudImageOptions;
}

/** What a retried release may adopt from the earlier runs of the same release (issue 14). */
export interface AdoptReusableInput {
  release: ReleaseRef;
  /**
   * Tokens (run ids) of the earlier runs of this release, newest first: only what they made
   * is adopted. They released the same build (a retry pins the build its failed run chose).
   */
  earlierTokens: string[];
  imageName: string;
  checksum: ResolvedImageSource['checksum'];
  /** Home region first; the others are where a copy of the image may be reused. */
  regions: string[];
  options?: CloudImageOptions;
}

/** An artifact an earlier run left intact, now this run's; `reusedFrom` is the earlier run's token. */
export type Reused<T> = T & { reusedFrom: string };

export interface ReusableArtifacts {
  /** The earlier run's uploaded disk in the home region (checksum tag matching). */
  disk?: Reused<UploadedDisk>;
  /** Images of that name and checksum, one per region at most. */
  images: Array<Reused<ImageRef>>;
}

/** A revoked release's image: no longer shared with anyone, deprecated from now on. */
export interface WithdrawImageInput {
  /** The revoke run (its workflow id and run id) and the account the image lives in. */
  release: ReleaseRef;
  image: ImageRef;
  /** The image people should use instead (the one the revoked release had replaced), where there is one. */
  replacement?: ImageRef;
  options?: CloudImageOptions;
}

/** An image a revoked release had deprecated: current again, shared as it was before. */
export interface RestoreImageInput {
  release: ReleaseRef;
  image: ImageRef;
  options?: CloudImageOptions;
}

/** What an image looks like in a cloud, as far as a release needs to know. */
export interface CloudImage extends ImageRef {
  state: 'available' | 'pending' | 'deprecated' | 'failed';
  releaseToken?: string;
  visibility: 'private' | 'public' | 'shared';
}

/** A throw-away instance launched from a new image to test it. */
export interface TestInstance {
  /** Where it runs (a GCE zone, an EC2 region). */
  region: string;
  /** The account it runs in, when not the release's own (GCE's testing account). */
  account?: string;
  instanceId: string;
  /** Where its SSH answers. */
  host?: string;
  port: number;
  user: string;
  /** The cloud's name for the imported public key, deleted with the instance. */
  keyName?: string;
  /** The host key fingerprint when the cloud tells it (console output); otherwise pinned at first contact. */
  hostKeyFingerprint?: string;
  /** Set when this instance can never be reached (an emulator's instances run nothing): the tests are skipped, saying why. */
  unreachable?: string;
}

export interface LaunchTestInstanceInput {
  release: ReleaseRef;
  image: ImageRef;
  /** The ephemeral public key (authorized_keys format) the instance must accept. */
  publicKey: string;
  instanceType?: string;
  sshUser?: string;
  /** The release's cloud specifics (GCE: the test zone, its fallbacks, the testing account). */
  options?: CloudImageOptions;
}

/** force_replace_image after the tests: the stand-in image takes the name, the other image of that name goes. */
export interface CompleteReplacementInput extends CreateImageInput {
  /** The tested image, made under a stand-in name (its `finalName` is `imageName`). */
  standIn: ImageRef;
}

/** What a release is about to do, for the checks before anything is uploaded. */
export interface PreflightInput {
  release: ReleaseRef;
  /** The image name, placeholders filled. */
  imageName: string;
  /** Every region the release writes to, home region first. */
  regions: string[];
  shareWith: 'all' | 'none' | string[];
  options?: CloudImageOptions;
}

/**
 * One cloud behind one interface. Every method is idempotent: called again with the same
 * input (a retry after a crash), it finds what the first call made and returns it.
 */
export interface CloudProvider {
  readonly cloud: CloudName;
  openDiskWriter(input: OpenDiskWriterInput): Promise<DiskWriter>;
  createImage(input: CreateImageInput): Promise<ImageRef>;
  replicateImage(input: ReplicateImageInput): Promise<ImageRef>;
  publishImage(input: PublishImageInput): Promise<void>;
  /** Returns when the cloud records the deprecated image as due for deletion, where it does (GCE). */
  deprecateImage(input: DeprecateImageInput): Promise<void | { deleteAfter?: string }>;
  /** `options` (Azure only: where its images live) is absent where the release has none to give. */
  findImageByName(account: string, region: string, imageName: string, options?: CloudImageOptions): Promise<CloudImage | undefined>;
  deleteImage(release: ReleaseRef, image: ImageRef): Promise<void>;
  /**
   * Removes the uploaded disk once the image no longer needs it. A cloud whose images are
   * made of the disk itself (an EC2 snapshot behind an AMI) keeps it while an image uses it.
   */
  deleteDisk(release: ReleaseRef, disk: Pick<UploadedDisk, 'region' | 'diskId'>): Promise<void>;
  /**
   * Removes every half-made artifact carrying this run's token (staging uploads, pending
   * images, test instances). `options` (absent in histories recorded before it was passed)
   * says where else the run may have made things (GCE: the bucket, the testing account).
   */
  discardReleaseArtifacts(release: ReleaseRef, regions: string[], options?: CloudImageOptions): Promise<void>;
  /**
   * A retry's head start: the disk and images the earlier runs of this release left intact
   * (a terminated run, a cleanup that failed) are re-tagged as this run's, so its saga and
   * cleanup own them, and returned. Idempotent: a second call finds them already adopted.
   * Clouds without it upload and create again.
   */
  adoptReusable?(input: AdoptReusableInput): Promise<ReusableArtifacts>;
  /**
   * Read-only checks of what only this cloud knows: the account's credentials work, every
   * region is enabled for it, public sharing is possible. Every problem is returned, none
   * thrown. (Whether the image name is free is checked for every cloud with findImageByName.)
   */
  preflight?(input: PreflightInput): Promise<PreflightProblem[]>;
  /**
   * force_replace_image where names are unique (EC2, local): removes the other image of
   * `imageName` in the stand-in's region and gives the release's image that name, from the same
   * disk (no data copied). Idempotent: a retry finds the name already the release's.
   */
  completeReplacement?(input: CompleteReplacementInput): Promise<{ image: ImageRef; replaced: ImageRef[] }>;
  /** Clouds that can boot their images: a test instance with the key injected, running when this returns. */
  launchTestInstance?(input: LaunchTestInstanceInput): Promise<TestInstance>;
  /** Power-cycles it (test_hard_reboot). */
  rebootTestInstance?(release: ReleaseRef, instance: TestInstance): Promise<void>;
  /** Why the test instance is gone (stopped, crashed), or undefined while it runs. */
  testInstanceGone?(release: ReleaseRef, instance: TestInstance): Promise<string | undefined>;
  /** Terminates it and deletes its key; one already gone is fine. */
  terminateTestInstance?(release: ReleaseRef, instance: TestInstance): Promise<void>;
  /**
   * Revoke: removes every launch permission (public, accounts) and deprecates the image now.
   * A repeat finds it withdrawn and changes nothing; an image already gone is fine.
   * Clouds without withdrawImage and restoreImage cannot revoke (refused before anything changes).
   */
  withdrawImage?(input: WithdrawImageInput): Promise<void>;
  /** Revoke: undoes the deprecation of an image the revoked release had replaced; its sharing is untouched. Idempotent. */
  restoreImage?(input: RestoreImageInput): Promise<void>;
  /**
   * Clouds with object storage (S3, Cloud Storage, Blob): a writer of one object in a
   * bucket with the named account's credentials (the raw image upload). Resumable like a
   * disk writer: `resumeFromOffset` and `checkpoint` come from the last heartbeat.
   */
  openObjectWriter?(input: OpenObjectWriterInput): Promise<DiskWriter>;
}

/** One object of a raw image upload: where it goes and what an earlier attempt left. */
export interface OpenObjectWriterInput {
  /** The account (of this cloud) whose credentials write it. */
  account: string;
  release: ReleaseRef;
  /** S3/GCS: the bucket; Azure: `STORAGE_ACCOUNT/CONTAINER`. */
  bucket: string;
  key: string;
  /** The object's size when known up front (GCS ends its session with it; S3 sizes its parts). */
  sizeBytes?: number;
  resumeFromOffset: number;
  checkpoint?: WriterCheckpoint;
  /** The object's Content-Type; default application/octet-stream (a published image list is text/plain). */
  contentType?: string;
}
