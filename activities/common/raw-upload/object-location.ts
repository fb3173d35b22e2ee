import type { RawUploadType } from '../../../schemas/job/raw-upload-fields.js';

/** Where one raw upload's objects go: a bucket (Azure: `ACCOUNT/CONTAINER`) and the image's key. */
export interface ObjectLocation {
  bucket: string;
  key: string;
}

/**
 * mash's naming (its S3 bucket upload): the object is the image name plus the file's image
 * suffix (`.raw.xz`, `.vhdfixed.xz`, see imageSuffix), or the file's own name without an image name;
 * a location `BUCKET/PREFIX/` puts it under PREFIX, `BUCKET/KEY` names it KEY outright.
 * `{date}` in the location becomes `date` (the image name's date), as mash's use_build_time
 * does. Azure's bucket is two segments: the storage account and the container.
 */
export function objectLocation(
  type: RawUploadType,
  location: string,
  fileName: string,
  imageName: string | undefined,
  date: string,
): ObjectLocation {
  const filled = location.replaceAll('{date}', date);
  const bucketSegments = type === 'azure_blob' ? 2 : 1;
  const segments = filled.split('/');
  const bucket = segments.slice(0, bucketSegments).join('/');
  const path = segments.slice(bucketSegments).join('/');
  const named = imageName ? `${imageName}${imageSuffix(fileName)}` : fileName;
  const key = path === '' ? named : path.endsWith('/') ? `${path}${named}` : path;
  return { bucket, key };
}

/**
 * The file's image suffix (`.raw.xz`, `.vhdfixed.xz`, `.raw`, `.qcow2`). mash takes the last
 * two dot-separated parts, which for an uncompressed `NAME.x86_64-1.0.0-Build1.2.raw` is
 * `2.raw`: the known image and compression suffixes are taken instead, mash's rule otherwise.
 */
export function imageSuffix(fileName: string): string {
  const known = /\.(raw|vhdfixed|vhd|qcow2|vmdk|tar)(\.(xz|gz|zst|bz2))?$/.exec(fileName);
  return known ? known[0] : `.${fileName.split('.').slice(-2).join('.')}`;
}

/** The URL people and image lists use for an object: s3://, gs://, or the blob's https URL. */
export function objectUrl(
  type: RawUploadType,
  { bucket, key }: ObjectLocation,
  blobEndpoint?: string,
): string {
  if (type === 's3bucket') return `s3://${bucket}/${key}`;
  if (type === 'gcs') return `gs://${bucket}/${key}`;
  const [account, container] = bucket.split('/');
  const base = blobEndpoint ?? `https://${account}.blob.core.windows.net`;
  return `${base.replace(/\/$/, '')}/${container}/${key}`;
}
