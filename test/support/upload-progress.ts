import { defaultPayloadConverter } from '@temporalio/common';
import type { Client } from '@temporalio/client';
import type { UploadHeartbeat } from '../../activities/cloud-activities.js';

/**
 * Polls a release until its upload activity has heartbeated at least `minDiskOffset` bytes
 * durably written, and returns that heartbeat: the moment a worker-crash test kills the worker.
 */
export async function uploadProgressAtLeast(temporal: Client, releaseId: string, minDiskOffset: number): Promise<UploadHeartbeat> {
  const handle = temporal.workflow.getHandle(releaseId);
  for (;;) {
    const upload = (await handle.describe()).raw.pendingActivities?.find((a) => a.activityType?.name === 'uploadImage');
    const payload = upload?.heartbeatDetails?.payloads?.[0];
    const progress = payload ? defaultPayloadConverter.fromPayload<UploadHeartbeat>(payload) : undefined;
    if (progress && progress.diskOffset >= minDiskOffset) return progress;
    await new Promise((r) => setTimeout(r, 200));
  }
}
