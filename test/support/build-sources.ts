// The image sources the download and transfer tests resolve: a build of `img` (x86_64),
// asked for with no conditions and nothing disallowed, as the download step would.
import {
  resolveImageSource,
  type ResolveSourceInput,
} from '../../activities/common/download/resolve-source.js';
import type { ResolvedImageSource } from '../../activities/provider.js';
import { publishBuild, type PublishBuildOptions } from '../../infra/devstack/build-service.js';

/** The download step's input for the build(s) of `img` at `downloadUrl`. */
export const testSourceInput = (
  downloadUrl: string,
  overrides: Partial<ResolveSourceInput> = {},
): ResolveSourceInput => ({
  downloadUrl,
  image: 'img',
  architecture: 'x86_64',
  conditions: [],
  conditionsWaitSeconds: 0,
  disallowPackages: [],
  disallowLicenses: [],
  ...overrides,
});

/**
 * Publishes build 1.0-1 of `img` (of `build.disk`) into `directory`, which `downloadUrl`
 * serves, and resolves it as the download step would.
 */
export async function publishedSource(
  directory: string,
  downloadUrl: string,
  build: Pick<PublishBuildOptions, 'disk'> & Partial<PublishBuildOptions>,
): Promise<{ source: ResolvedImageSource; fileName: string }> {
  const { fileName } = await publishBuild(directory, {
    image: 'img',
    arch: 'x86_64',
    version: '1.0',
    release: '1',
    ...build,
  });
  return { source: await resolveImageSource(testSourceInput(downloadUrl)), fileName };
}
