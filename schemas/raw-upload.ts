import type { RawUploadType } from './job/raw-upload-fields.js';
import type { CloudName } from './steps.js';

/** The job's raw_image_upload_* fields, as the plan carries them (names, never secrets). */
export interface RawUploadSpec {
  type: RawUploadType;
  /** The account (of `cloud`) whose stored credentials write the objects. */
  account: string;
  location: string;
  /** Suffixes of files next to the image that go too (`sha256`, `sha256.asc`, …). */
  additionalUploads: string[];
}

/** The cloud whose queue (and account, and storage) a raw upload of this type uses. */
export function rawUploadCloud(type: RawUploadType): Exclude<CloudName, 'local'> {
  return type === 's3bucket' ? 'ec2' : type === 'gcs' ? 'gce' : 'azure';
}

/** One object the raw upload made: where it is, its size and sha512 (what image lists publish). */
export interface RawUploadedObject {
  url: string;
  sizeBytes: number;
  sha512: string;
}

/** The raw_image_upload step's result: the image file's object and the additional files'. */
export interface RawUploadResult {
  image: RawUploadedObject;
  additional: RawUploadedObject[];
}
