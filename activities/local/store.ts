import { createHash, randomBytes } from 'node:crypto';
import { mkdir, open, readFile, readdir, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { nonRetryable } from '../common/errors.js';

/**
 * The local cloud's layout: `<dataDir>/<account>/<region>/` holds `staging/` (uploads in
 * progress, `<diskId>.raw.part`), `disks/` (uploaded disks, `<diskId>.raw` + `.json`) and
 * `images/` (`<imageId>.json` metadata + `<imageId>.raw` disk).
 */
export type LocalArea = 'staging' | 'disks' | 'images';

/** An image's metadata file: what the local cloud knows about it. */
export interface LocalImage {
  imageId: string;
  imageName: string;
  description: string;
  architecture: string;
  bootFirmware: string[];
  /** The image's disk, a file name in the same `images/` directory. */
  diskFile: string;
  releaseToken: string;
  /** `pending`: a copy the cloud is still making (a slow region), available at `readyAt`. */
  state: 'available' | 'deprecated' | 'pending';
  readyAt?: string;
  visibility: 'private' | 'public' | 'shared';
  sharedWith: string[];
  allowCopy: boolean;
  checksum: string;
  sourceVersion?: string;
  sourceRelease?: string;
  createdAt: string;
  /** Set on replicas: the image this one was copied from. */
  replicatedFrom?: { region: string; imageId: string };
  deprecatedAt?: string;
  replacement?: { imageId: string; imageName: string };
  /** Set when a retry adopted this image: the token of the earlier run that made it. */
  reusedFrom?: string;
}

/** An uploaded disk's metadata file, next to its `.raw`. */
export interface LocalDisk {
  diskId: string;
  region: string;
  releaseToken: string;
  sizeBytes: number;
  bytesWritten: number;
  checksum: { algorithm: 'sha256' | 'sha512'; hex: string };
  createdAt: string;
  /** Set when a retry adopted this disk: the token of the earlier run that uploaded it. */
  reusedFrom?: string;
}

const SEGMENT = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

/**
 * Account, region and ids become path segments: nothing that could leave the data dir
 * (`..`, `/`, empty). A retry cannot fix a bad name, so the failure is non-retryable.
 */
export function safeSegment(kind: string, value: string): string {
  if (typeof value !== 'string' || !SEGMENT.test(value) || value.includes('..')) {
    throw nonRetryable(
      'CloudInvalidRequest',
      `invalid local ${kind} ${JSON.stringify(value)}: use 1-128 letters, digits, '.', '_' and '-', starting with a letter or digit, without '..'`,
    );
  }
  return value;
}

export class LocalStore {
  constructor(readonly dataDir: string) {}

  dir(account: string, region: string, area: LocalArea): string {
    return join(this.dataDir, safeSegment('account', account), safeSegment('region', region), area);
  }

  /**
   * A region can be closed to copies, as a cloud region can refuse them for good (an opt-in
   * region not enabled, a quota): a file `<dataDir>/<account>/<region>/CLOSED` whose text is
   * the reason; `CLOSED-PUBLISH` refuses publishing there (a permission, public-image block),
   * `CLOSED-DEPRECATE` deprecation. Removing the file opens the region again. Tests and demos use it.
   * Two more are what preflight looks for: `DISABLED`, a region not enabled for the account
   * (an EC2 opt-in region; copies are refused too), and `BLOCK-PUBLIC`, public sharing blocked
   * (EC2's image block public access; publishing with "all" is refused too).
   */
  async closedReason(
    account: string,
    region: string,
    to: 'copies' | 'publishing' | 'deprecation' | 'enabled' | 'public' = 'copies',
  ): Promise<string | undefined> {
    const name = { copies: 'CLOSED', publishing: 'CLOSED-PUBLISH', deprecation: 'CLOSED-DEPRECATE', enabled: 'DISABLED', public: 'BLOCK-PUBLIC' }[to];
    const file = join(this.dataDir, safeSegment('account', account), safeSegment('region', region), name);
    return readFile(file, 'utf8').then(
      (text) => text.trim() || 'closed',
      () => undefined,
    );
  }

  /**
   * A region can be slow to copy into, as a far cloud region takes hours for an AMI copy: a
   * file `<dataDir>/<account>/<region>/SLOW-COPY` holding seconds makes every copy into it
   * pending for that long after it started (the copy goes on whether or not anyone waits).
   * Tests use it to show that a wait outlasting an activity attempt is adopted by the retry.
   */
  async copyDelayMs(account: string, region: string): Promise<number> {
    const file = join(this.dataDir, safeSegment('account', account), safeSegment('region', region), 'SLOW-COPY');
    const seconds = Number(await readFile(file, 'utf8').catch(() => '0'));
    return Number.isFinite(seconds) && seconds > 0 ? seconds * 1000 : 0;
  }

  async ensureDir(account: string, region: string, area: LocalArea): Promise<string> {
    const dir = this.dir(account, region, area);
    await mkdir(dir, { recursive: true });
    return dir;
  }

  stagingPart(account: string, region: string, diskId: string): string {
    return join(this.dir(account, region, 'staging'), `${safeSegment('disk id', diskId)}.raw.part`);
  }

  diskFile(account: string, region: string, diskId: string): string {
    return join(this.dir(account, region, 'disks'), `${safeSegment('disk id', diskId)}.raw`);
  }

  diskJson(account: string, region: string, diskId: string): string {
    return join(this.dir(account, region, 'disks'), `${safeSegment('disk id', diskId)}.json`);
  }

  imageJson(account: string, region: string, imageId: string): string {
    return join(this.dir(account, region, 'images'), `${safeSegment('image id', imageId)}.json`);
  }

  imageDisk(account: string, region: string, imageId: string): string {
    return join(this.dir(account, region, 'images'), `${safeSegment('image id', imageId)}.raw`);
  }

  async readImage(account: string, region: string, imageId: string): Promise<LocalImage | undefined> {
    return readJson<LocalImage>(this.imageJson(account, region, imageId));
  }

  async writeImage(account: string, region: string, image: LocalImage): Promise<void> {
    await this.ensureDir(account, region, 'images');
    await writeJsonAtomically(this.imageJson(account, region, image.imageId), image);
  }

  async listImages(account: string, region: string): Promise<LocalImage[]> {
    const dir = this.dir(account, region, 'images');
    const names = await readdir(dir).catch(() => [] as string[]);
    const images = await Promise.all(
      names.filter((n) => n.endsWith('.json')).map((n) => readJson<LocalImage>(join(dir, n))),
    );
    return images.filter((i): i is LocalImage => i !== undefined);
  }

  /** Uploaded disks' metadata in a region (complete disks only: the `.json` is written last). */
  async listDisks(account: string, region: string): Promise<LocalDisk[]> {
    const dir = this.dir(account, region, 'disks');
    const names = await readdir(dir).catch(() => [] as string[]);
    const disks = await Promise.all(names.filter((n) => n.endsWith('.json')).map((n) => readJson<LocalDisk>(join(dir, n))));
    return disks.filter((d): d is LocalDisk => d !== undefined);
  }

  /** Removes every file of `area` whose name starts with `<id>.` (data, metadata, temp files). */
  async removeAllOf(account: string, region: string, area: LocalArea, id: string): Promise<void> {
    const dir = this.dir(account, region, area);
    const prefix = `${safeSegment('id', id)}.`;
    const names = await readdir(dir).catch(() => [] as string[]);
    await Promise.all(
      names.filter((n) => n.startsWith(prefix)).map((n) => rm(join(dir, n), { force: true })),
    );
  }
}

/** Ids derived from the run's token, so a retried call lands on what the first one made. */
export function deterministicId(prefix: string, ...parts: string[]): string {
  return `${prefix}-${createHash('sha256').update(parts.join('\0')).digest('hex').slice(0, 12)}`;
}

export async function readJson<T>(path: string): Promise<T | undefined> {
  try {
    return JSON.parse(await readFile(path, 'utf8')) as T;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

/**
 * Readers see the old or the new file, never half of one; fsync first, so after a power
 * loss the new name never points at an empty file. The temp name is unique per call, so
 * two writers of one file never write into each other's temp file.
 */
export async function writeJsonAtomically(path: string, value: unknown): Promise<void> {
  const temp = `${path}.${randomBytes(4).toString('hex')}.tmp`;
  const file = await open(temp, 'w');
  try {
    await file.writeFile(JSON.stringify(value, null, 2));
    await file.sync();
  } finally {
    await file.close();
  }
  await rename(temp, path).catch(async (error: unknown) => {
    await rm(temp, { force: true });
    throw error;
  });
}

/** Makes a rename or new file in `dir` survive a power loss (the entry lives in the directory). */
export async function syncDir(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}
