import { createHash } from 'node:crypto';
import { mkdir, readFile, readdir, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/**
 * The local cloud's layout: `<dataDir>/<account>/<region>/` holds `staging/` (uploads in
 * progress), `disks/` (uploaded disks) and `images/` (`<id>.json` metadata + `<id>.raw`).
 */
export interface LocalImage {
  imageId: string;
  imageName: string;
  description: string;
  architecture: string;
  bootFirmware: string[];
  releaseToken: string;
  state: 'available' | 'deprecated';
  visibility: 'private' | 'public' | 'shared';
  sharedWith: string[];
  allowCopy: boolean;
  checksum: string;
  sourceVersion?: string;
  sourceRelease?: string;
  createdAt: string;
  deprecatedAt?: string;
  replacement?: { imageId: string; imageName: string };
}

const SEGMENT = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

/** Account, region and ids become path segments: nothing that could leave the data dir. */
export function safeSegment(kind: string, value: string): string {
  if (!SEGMENT.test(value) || value.includes('..')) {
    throw new Error(`invalid local ${kind} "${value}": use letters, digits, '.', '_' and '-'`);
  }
  return value;
}

export class LocalStore {
  constructor(readonly dataDir: string) {}

  regionDir(account: string, region: string): string {
    return join(this.dataDir, safeSegment('account', account), safeSegment('region', region));
  }

  dir(account: string, region: string, kind: 'staging' | 'disks' | 'images'): string {
    return join(this.regionDir(account, region), kind);
  }

  async ensureDir(account: string, region: string, kind: 'staging' | 'disks' | 'images'): Promise<string> {
    const dir = this.dir(account, region, kind);
    await mkdir(dir, { recursive: true });
    return dir;
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

/** Readers see the old or the new file, never half of one. */
export async function writeJsonAtomically(path: string, value: unknown): Promise<void> {
  const temp = `${path}.${process.pid}.tmp`;
  await writeFile(temp, JSON.stringify(value, null, 2));
  await rename(temp, path);
}
