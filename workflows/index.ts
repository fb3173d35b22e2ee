// The workflow bundle's entry: every workflow type a worker registers.
export { releaseImage, type ReleaseResult } from './release-image.js';
export { statusQuery } from './queries.js';
export type { AccountRelease, ReleaseStatus, StepStatus } from './release-status.js';
export type { PinnedBuild } from './account-releases.js';
export { deprecateImages, type RetirementResult } from './deprecate-images.js';
export { releaseNewBuilds, type BuildWatchResult } from './release-new-builds.js';
export { preflightRelease, type PreflightResult } from './preflight.js';
export { revokeRelease } from './revoke-release.js';
export { renewImageLists, type ImageListRenewalResult } from './renew-image-lists.js';
