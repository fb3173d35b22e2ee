import type { CloudName, ReleaseStep } from './steps.js';
import type { RawUploadSpec } from './raw-upload.js';

/** A condition on the image build or one of its packages (mash's `image_condition`). */
export interface ImageCondition {
  package_name?: string;
  version?: string;
  release?: string;
  condition?: '>=' | '==' | '<=' | '>' | '<';
}

/** Where to find the image and what it must satisfy before it is released. */
export interface SourceSpec {
  downloadUrl: string;
  /** mash's download_type "S3": downloadUrl is s3://BUCKET/KEY, read with downloadAccount's keys. Absent: OBS. */
  downloadType?: 'S3';
  /** The EC2 account (name) whose credentials read an S3 source. */
  downloadAccount?: string;
  image: string;
  /** kiwi profile (OBS multibuild flavour) in the file name, after the version. */
  profile?: string;
  architecture: 'x86_64' | 'aarch64';
  conditions: ImageCondition[];
  conditionsWaitSeconds: number;
  disallowPackages: string[];
  disallowLicenses: string[];
}

/** A test the release runs on its image: a named one (img-proof's names) or a command of its own. */
export interface ImageTestSpec {
  name: string;
  /** Custom tests: the command to run on the instance. */
  command?: string;
  /** Pass when the command exits with this (default 0). */
  expectExitCode?: number;
  /** …and its output matches this regular expression. */
  expectOutput?: string;
  timeoutSeconds?: number;
}

/** EC2 specifics of the AMI a release registers and shares (names and flags, no secrets). */
export interface Ec2ImageOptions {
  cloud: 'ec2';
  uploadMethod: 'ebs_direct' | 's3_import';
  rootVolumeSizeGiB: number;
  enaSupport: boolean;
  sriovSupport: boolean;
  tpmSupport?: 'v2.0';
  imdsSupport?: 'v2.0';
  billingCodes: string[];
  /** Who may copy the AMI: create-volume permission on its snapshots. */
  copyPermission: 'all' | 'none' | string[];
  /** mash's image_tags: on the AMI and its snapshot in every region (absent in older plans). */
  imageTags?: Array<{ Key: string; Value: string }>;
  /** mash's cpu_options: what the test instance is launched with (absent in older plans). */
  cpuOptions?: { AmdSevSnp?: 'enabled' | 'disabled' };
  /** force_replace_image: an AMI of the release's name is replaced after the new one is tested (absent unless set). */
  forceReplace?: boolean;
}

/** GCE specifics of the image a release makes (names and flags, no secrets). */
export interface GceImageOptions {
  cloud: 'gce';
  /** The bucket the disk tarball is uploaded to (the job's, else the account's). */
  bucket: string;
  family?: string;
  /** guestOsFeatures types, UEFI_COMPATIBLE added when boot_firmware asks for UEFI. */
  guestOsFeatures: string[];
  licenses: string[];
  /** The deprecated image's `deleted` date is this many months after deprecation. */
  monthsToDeletion: number;
  /** The zone test instances start in; the fallbacks are tried on capacity errors. */
  testZone: string;
  testFallbackZones: string[];
  /** The account test instances run in (its project); the release's own account when unset. */
  testingAccount?: string;
  /** The project the image is read from by the test (mash's image_project); the release's project when unset. */
  imageProject?: string;
  /** An existing tarball or image of the release's name is replaced instead of failing. */
  forceReplace: boolean;
  skipRollout: boolean;
}

/** An Azure image's Hyper-V generation: V2 boots UEFI only, V1 BIOS only. */
export type HyperVGeneration = 'V1' | 'V2';

/** Azure specifics of the images a release makes (names and flags, no secrets). */
export interface AzureImageOptions {
  cloud: 'azure';
  /** The VHD goes to `<container>/<image name>.vhd` in this storage account, as in mash. */
  storageAccount: string;
  container: string;
  /** The resource group of the storage account, and of managed images. */
  resourceGroup: string;
  /**
   * Without a gallery: one managed image per generation boot_firmware asks for, named the
   * image name plus `nameSuffix` (mash: "uefi" → V2 `_uefi`; bios and uefi-preferred → V1).
   */
  managedImages: Array<{ nameSuffix: '' | '_uefi'; hyperVGeneration: HyperVGeneration }>;
  /**
   * With gallery_name: an image version (azureGalleryImageVersion of the image name,
   * YYYY.MM.DD) in each definition, created when missing with its generation.
   */
  gallery?: {
    name: string;
    resourceGroup: string;
    definitions: Array<{ name: string; plan: string; hyperVGeneration: HyperVGeneration }>;
    /** The identifier of definitions Imagecast creates: publisher_id (or "imagecast") and offer_id. */
    publisher?: string;
    offer?: string;
    /** The regions the version is replicated to besides the home region (the replicate step). */
    replicaRegions?: string[];
    /** Replicas per target region (Azure: 1-10 per region; more serve more concurrent VM creates). */
    regionalReplicaCount?: number;
    /** security_type: the SecurityType of the V2 definitions Imagecast creates (default TrustedLaunchSupported). */
    securityType?: string;
    /** share_with "all": publish makes the gallery a community one, which it must be able to be (checked before the upload and in create). */
    community?: boolean;
  };
  /** When publish runs: the Partner Center offer draft the image is added to. */
  partnerCenter?: { account: string; offerId: string; sku: string; generationId?: string; fromGallery: boolean };
  /** An existing blob or image of the release's name is replaced instead of failing. */
  forceReplace: boolean;
  /** cloud_architecture: the test VM's size family and a created definition's architecture. */
  architecture?: 'x86_64' | 'aarch64';
}

/** What one cloud needs beyond the cloud-neutral plan; `local` needs nothing more. */
export type CloudImageOptions = Ec2ImageOptions | GceImageOptions | AzureImageOptions | LocalImageOptions;

/** The local cloud: only force_replace_image (absent unless set). */
export interface LocalImageOptions {
  cloud: 'local';
  forceReplace?: boolean;
}

/**
 * The cloud-neutral plan of one release, derived from a validated job document by the
 * cloud's own rules (which regions an account means, what sharing is called). The workflow
 * runs on this, so it never needs to know a cloud's job fields. Carries names, never secrets.
 */
export interface ReleasePlan {
  cloud: CloudName;
  /** Account (or group) name: credentials are looked up by activities, never carried here. */
  account: string;
  homeRegion: string;
  replicaRegions: string[];
  /** `cloud_image_name` as written, placeholders and all. */
  imageNameTemplate: string;
  /** Images of one line replace each other (deprecation looks the line up in the catalog). */
  imageLine: string;
  description: string;
  architecture: 'x86_64' | 'aarch64';
  bootFirmware: string[];
  lastService: ReleaseStep;
  /** use_build_time: {date} is the build's day (the image file's Last-Modified), not the release's. Absent in older plans. */
  useBuildTime?: boolean;
  /** ISO timestamp from `utctime`; absent means now. */
  startAt?: string;
  shareWith: 'all' | 'none' | string[];
  allowCopy: boolean;
  tests: ImageTestSpec[];
  /** The test instance: type and SSH user (the cloud's defaults when unset). */
  testInstance?: { instanceType?: string; sshUser?: string };
  oldCloudImageName?: string;
  /** mash's cleanup_images: remove the new images at the end of a test-only run. */
  cleanupImagesAfterTest: boolean;
  source: SourceSpec;
  /** Set when the job says `notify`: who is emailed (webhooks are the worker's configuration). */
  notify?: { emails: string[] };
  /**
   * Set when the job names several accounts (cloud_accounts, cloud_groups): the release
   * runs once per account as a child workflow, each with the job narrowed to its account.
   * The rest of this plan is the first account's.
   */
  accountReleases?: Array<{ account: string; job: Record<string, unknown> }>;
  /**
   * `dry_run`: resolve the build, check conditions, run the preflight, report what the
   * release would make and retire, and make nothing.
   */
  dryRun: boolean;
  /**
   * on_failure, block_timeout, on_block_timeout: what a region failure retries did not cure
   * does. Absent in plans made before blocking existed (they fail, as then).
   */
  onFailure?: FailurePolicy;
  /** Cloud specifics, handed to the cloud's activities unread by the workflow. */
  imageOptions?: CloudImageOptions;
  /** raw_image_upload_*: the image file copied to a bucket after the test step. */
  rawImageUpload?: RawUploadSpec;
  /** image_lists: the signed image lists (identifier or title) that carry this image line. */
  imageLists?: string[];
}

/** A release's answer to a failure that is not a verdict (see the job's on_failure). */
export interface FailurePolicy {
  /** block: wait for a person's decision, keeping what was made; abort: fail and clean up. */
  policy: 'block' | 'abort';
  /** How long a blocked release waits for a decision. */
  blockTimeoutSeconds: number;
  /** What happens when it has waited that long. */
  onTimeout: 'abort' | 'skip';
  /** Between reminders while blocked (absent in plans made before reminders: a day). */
  remindEverySeconds?: number;
}
