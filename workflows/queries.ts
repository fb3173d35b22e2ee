import { defineQuery } from '@temporalio/workflow';
import type { ReleaseStatus } from './release-status.js';

/** Per-step state of a running release (the SDK, CLI and tests ask it). */
export const statusQuery = defineQuery<ReleaseStatus>('status');
