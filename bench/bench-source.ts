/** The bench image a build service publishes (bench-image, x86_64), resolved as a release resolves its source. */
import { resolveImageSource } from '../activities/common/download/resolve-source.js';
import type { ResolvedImageSource } from '../activities/provider.js';

export function resolveBenchSource(downloadUrl: string): Promise<ResolvedImageSource> {
  return resolveImageSource({
    downloadUrl,
    image: 'bench-image',
    architecture: 'x86_64',
    conditions: [],
    conditionsWaitSeconds: 0,
    disallowPackages: [],
    disallowLicenses: [],
  });
}
