import type { AzureImageOptions } from '../../schemas/release-plan.js';
import type { ReleaseRef } from '../provider.js';

// The same names as the page blob's metadata (page-blob-writer.ts), so one token finds everything a run made.
export const TOKEN_TAG = 'imagecastreleasetoken';
export const RELEASE_TAG = 'imagecastreleaseid';
/** On a deprecated managed image: the image that replaces it (Azure has no deprecation state for them). */
export const DEPRECATED_TAG = 'imagecastdeprecated';
export const REPLACEMENT_TAG = 'imagecastreplacement';
/** On a gallery version: the image name it was made for (versions are named by its date only). */
export const IMAGE_NAME_TAG = 'imagecastimagename';

export function releaseTags(release: ReleaseRef): Record<string, string> {
  // Tag values may hold 256 characters; workflow ids are bounded far below.
  return { [TOKEN_TAG]: release.releaseToken, [RELEASE_TAG]: release.releaseId };
}

export const madeBy = (tags: Record<string, string> | undefined, release: ReleaseRef) =>
  tags?.[TOKEN_TAG] === release.releaseToken;

/** The release's Azure options, or an internal error: the workflow always passes them. */
export function azureOptions(input: { options?: { cloud: string } }): AzureImageOptions {
  if (input.options?.cloud !== 'azure')
    throw new Error("internal: an Azure call needs the release's Azure options");
  return input.options as AzureImageOptions;
}

/** `/subscriptions/S/resourceGroups/G/providers/Microsoft.Compute/…` → its resource group and the names after the provider. */
export function parseArmId(id: string): { resourceGroup: string; type: string; names: string[] } {
  const m = /^\/subscriptions\/[^/]+\/resourceGroups\/([^/]+)\/providers\/Microsoft\.Compute\/(.+)$/i.exec(
    id,
  );
  if (!m) throw new Error(`"${id}" is not an Azure Compute resource id`);
  const parts = m[2]!.split('/');
  // type/name pairs: images/N, or galleries/G/images/D/versions/V
  return {
    resourceGroup: m[1]!,
    type: parts.filter((_, i) => i % 2 === 0).join('/'),
    names: parts.filter((_, i) => i % 2 === 1),
  };
}
