import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { publishBuild, startBuildServer, type BuildServer } from './build-service.js';
import { writeDemoDisk } from './demo-disk.js';

/** The image name prefix a job's `image` names to pick the sample builds. */
export const SAMPLE_IMAGE = 'imagecast-sample';

/**
 * A build-service directory with one small build (`imagecast-sample…Build1.raw`, a 64 MiB
 * sparse disk, its `.sha256` and `.packages`) served on a free loopback port, so a release
 * by hand has something to release without a real OBS. Published once; later runs reuse it.
 */
export async function startSampleBuilds(dir: string): Promise<BuildServer> {
  mkdirSync(dir, { recursive: true });
  const disk = join(dir, '..', 'sample-disk.raw');
  if (!existsSync(join(dir, `${SAMPLE_IMAGE}.x86_64-1.0.0-Build1.raw`))) {
    await writeDemoDisk(disk, 64);
    await publishBuild(dir, {
      image: SAMPLE_IMAGE,
      arch: 'x86_64',
      version: '1.0.0',
      release: '1',
      disk,
      packages: [{ name: 'kernel-default', version: '6.4.0', release: '1.1', license: 'GPL-2.0-only' }],
    });
  }
  return startBuildServer({ root: dir });
}
