import { Readable, addAbortSignal } from 'node:stream';
import { GetObjectCommand, HeadObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import type { ResolvedImageSource } from '../../provider.js';
import { NO_ACCOUNTS, type AccountDirectory } from '../../accounts/account-directory.js';
import { AwsSessions } from '../../ec2/sessions.js';
import { awsErrorCode, classifyAwsError } from '../../ec2/aws-errors.js';
import { nonRetryable } from '../errors.js';
import { IMAGE_FORMATS, matchingBuilds } from './build-listing.js';
import { parseChecksumFile, type ImageChecksum } from './checksum-file.js';
import type { OpenedSource } from '../transfer/open-source.js';

/**
 * mash's `download_type: "S3"`: the image is one object, `s3://BUCKET/KEY`, read with the
 * keys of an EC2 account (`download_account`). Workflows carry the account's name only; its
 * credentials are looked up here, on the worker, when the object is read.
 */

export interface S3SourceAccess {
  accounts: AccountDirectory;
  /** One endpoint for every AWS service (an emulator such as moto): IMAGECAST_AWS_ENDPOINT. */
  endpoint?: string;
}

// Process-wide, set once by the worker: the stream is opened deep inside every cloud's upload
// (transferImage), which knows only the source, and threading the directory through every
// provider for this one source type would touch them all.
let sessions = new AwsSessions(NO_ACCOUNTS);
let access: S3SourceAccess = { accounts: NO_ACCOUNTS };

/** Where `s3://` sources find their account's credentials (the worker calls it at start). */
export function useS3SourceAccounts(settings: S3SourceAccess): void {
  access = settings;
  sessions = new AwsSessions(settings.accounts, settings.endpoint ? { endpoint: settings.endpoint } : {});
}

/** `s3://BUCKET/KEY` → its bucket and key (mash: strip `s3://`, split at the first `/`). */
export function parseS3Url(url: string): { bucket: string; key: string } {
  const match = /^s3:\/\/([^/]+)\/(.+)$/.exec(url);
  if (!match) throw nonRetryable('InvalidJob', `expected s3://BUCKET/OBJECT_KEY, got ${JSON.stringify(url)}`);
  return { bucket: match[1]!, key: match[2]! };
}

async function clientFor(account: string): Promise<S3Client> {
  let region: string;
  try {
    region = (await access.accounts.ec2Account(account)).region;
  } catch (error) {
    // The directory's own message lists what is configured; say which field asked for it.
    throw nonRetryable(
      'UnknownAccount',
      `download_account "${account}": this worker cannot read S3 sources with it: ${(error as Error).message}`,
      { account },
    );
  }
  return (await sessions.forRegion(account, region)).s3;
}

/** An S3 failure as the release should see it: a missing object or refused read fails at once. */
function s3Failure(error: unknown, url: string, account: string, action: string): unknown {
  const code = awsErrorCode(error);
  const status = (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
  if (code === 'NotFound' || code === 'NoSuchKey' || code === 'NoSuchBucket' || status === 404) {
    return nonRetryable('ImageSourceNotFound', `${url} not found (download_account "${account}")`, {
      url,
      account,
    });
  }
  return classifyAwsError(error, `${action} ${url} with download_account "${account}"`);
}

/** The file's compression and format, by the key's suffix (the build-service names). */
function formatOf(fileName: string): Pick<ResolvedImageSource, 'compression' | 'format'> {
  const known = IMAGE_FORMATS.find((f) => fileName.endsWith(f.suffix));
  if (!known) {
    throw nonRetryable(
      'ImageSourceNotFound',
      `${fileName}: an S3 image object must end in ${IMAGE_FORMATS.map((f) => f.suffix).join(', ')}`,
    );
  }
  return {
    compression: known.compression,
    ...(known.format === 'vhdfixed' && { format: 'vhdfixed' as const }),
  };
}

/**
 * The download step for an S3 object: HeadObject for size and Last-Modified (mash says build
 * time "unknown"; the object's time is the closest there is), and the checksum the upload
 * verifies: the build's `<key>.sha256` beside it (mash's build sidecar), else the SHA-256
 * S3 itself stored for the whole object when it was put with one. Reads no image byte.
 * An object with neither is released as mash releases it: `checksumFrom: 'stream'`, the
 * upload computes the sha256 and nothing verifies it (docs/jobs.md says the risk).
 */
export async function resolveS3Source(
  url: string,
  account: string,
  naming?: { image: string; architecture: string; profile?: string },
): Promise<ResolvedImageSource> {
  const { bucket, key } = parseS3Url(url);
  const fileName = key.replace(/^.*\//, '');
  const format = formatOf(fileName);
  // A key named the build-service way (IMAGE.ARCH-VERSION-BuildRELEASE…) gives {version} and {release}.
  const [build] = naming ? matchingBuilds([fileName], naming.image, naming.architecture, naming.profile) : [];
  const s3 = await clientFor(account);
  const head = await s3
    .send(new HeadObjectCommand({ Bucket: bucket, Key: key, ChecksumMode: 'ENABLED' }))
    .catch((error: unknown) => {
      throw s3Failure(error, url, account, 'HeadObject');
    });
  const published = (await sidecarChecksum(s3, bucket, key, fileName, url, account)) ?? storedChecksum(head);
  // Nothing to verify against: the upload's one pass computes the sha256 (an empty hex says
  // "not known yet"; nothing before the upload needs it, see workflows/stream-checksum.ts).
  const checksum = published ?? { algorithm: 'sha256' as const, hex: '' };
  return {
    url,
    fileName,
    downloadAccount: account,
    ...(head.ContentLength !== undefined && { sizeBytes: head.ContentLength }),
    ...(head.LastModified && { builtAt: head.LastModified.toISOString() }),
    ...format,
    checksum,
    ...(!published && { checksumFrom: 'stream' as const }),
    ...(build && { version: build.version, release: build.release }),
    ...(head.ETag && { etag: head.ETag }),
  };
}

async function sidecarChecksum(
  s3: S3Client,
  bucket: string,
  key: string,
  fileName: string,
  url: string,
  account: string,
): Promise<ImageChecksum | undefined> {
  let text: string;
  try {
    const object = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: `${key}.sha256` }));
    text = (await object.Body?.transformToString('utf8')) ?? '';
  } catch (error) {
    // S3 answers a missing key with AccessDenied to a reader without s3:ListBucket; the image
    // itself was readable, so a denied sidecar is taken as none (S3's stored checksum is next).
    if (awsErrorCode(error) === 'AccessDenied') return undefined;
    const failure = s3Failure(error, `${url}.sha256`, account, 'GetObject');
    if ((failure as { type?: string }).type === 'ImageSourceNotFound') return undefined;
    throw failure;
  }
  try {
    return parseChecksumFile(text, fileName, 'sha256');
  } catch (error) {
    throw nonRetryable('ImageSourceNotFound', `${url}.sha256 is unusable: ${(error as Error).message}`);
  }
}

/** S3's own SHA-256 of the whole object (a multipart upload's composite checksum is not one). */
function storedChecksum(head: { ChecksumSHA256?: string; ChecksumType?: string }): ImageChecksum | undefined {
  const stored = head.ChecksumSHA256;
  if (!stored || stored.includes('-') || head.ChecksumType === 'COMPOSITE') return undefined;
  const hex = Buffer.from(stored, 'base64').toString('hex');
  return hex.length === 64 ? { algorithm: 'sha256', hex } : undefined;
}

/**
 * The object's bytes from `offset` on (GetObject with a Range), for the upload's one pass.
 * With the ETag it was resolved with, only that object is read (If-Match): a retry re-reads
 * the very bytes the earlier attempt uploaded from, which is all that proves it for a
 * compressed source with no published checksum (its prefix digest covers raw sources only).
 */
export async function openS3SourceStream(
  url: string,
  account: string | undefined,
  offset: number,
  signal?: AbortSignal,
  etag?: string,
): Promise<OpenedSource> {
  if (!account) throw nonRetryable('InvalidJob', `${url}: an s3:// source needs its download_account`);
  const { bucket, key } = parseS3Url(url);
  const s3 = await clientFor(account);
  const request = async (from: number) =>
    s3.send(
      new GetObjectCommand({
        Bucket: bucket,
        Key: key,
        ...(from > 0 && { Range: `bytes=${from}-` }),
        ...(etag && { IfMatch: etag }),
      }),
      { abortSignal: signal },
    );
  let object;
  try {
    object = await request(offset);
  } catch (error) {
    if (signal?.aborted) throw error;
    if (isPreconditionFailed(error)) throw objectChanged(url, etag);
    if (awsErrorCode(error) !== 'InvalidRange') throw s3Failure(error, url, account, 'GetObject');
    // Asked for the bytes after the end: the earlier attempt read them all, or start over.
    const total = (await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key }))).ContentLength;
    if (total === offset) return { stream: Readable.from([]), offset, totalBytes: total };
    object = await request(0).catch((again: unknown) => {
      throw isPreconditionFailed(again) ? objectChanged(url, etag) : s3Failure(again, url, account, 'GetObject');
    });
  }
  const range = /^bytes (\d+)-\d+\/(\d+)$/.exec(object.ContentRange ?? '');
  const start = range ? Number(range[1]) : 0;
  const totalBytes = range ? Number(range[2]) : object.ContentLength;
  const stream = object.Body as Readable;
  return { stream: signal ? addAbortSignal(signal, stream) : stream, offset: start, totalBytes };
}

function isPreconditionFailed(error: unknown): boolean {
  const status = (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
  return awsErrorCode(error) === 'PreconditionFailed' || status === 412;
}

/** The key now holds another object than the one the release resolved: its bytes are not this build's. */
function objectChanged(url: string, etag: string | undefined): Error {
  return nonRetryable(
    'ChecksumMismatch',
    `${url} changed during the release (it is no longer the object with ETag ${etag}): start a new release for the new object`,
    { url, etag },
  );
}
