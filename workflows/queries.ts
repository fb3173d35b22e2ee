import { defineQuery } from '@temporalio/workflow';
import type { ReleaseStatus } from './release-status.js';
import type { ResolvedImageSource } from '../activities/provider.js';

/** Per-step state of a running release (the SDK, CLI and tests ask it). */
export const statusQuery = defineQuery<ReleaseStatus>('status');

/** The build a release chose (download step), once chosen: what `job retry` releases again. */
export const buildQuery = defineQuery<{ source: ResolvedImageSource; imageName: string } | undefined>('build');
