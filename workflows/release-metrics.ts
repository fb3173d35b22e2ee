import { metricMeter, workflowInfo } from '@temporalio/workflow';
import type { ReleaseStatus } from './release-status.js';

// Release-level metrics from the workflow, on the workflows worker's Prometheus endpoint.
// The SDK's workflow meter does not emit while replaying, so a replayed history (a worker
// restart, a cache eviction) never counts a release twice; emitting is no command, so adding
// these changed no history.

/** A release that ended: by cloud and outcome, and how long it ran (start to end, waits included). */
export function recordReleaseEnd(status: ReleaseStatus): void {
  const tags = { cloud: status.cloud, outcome: status.state };
  metricMeter
    .createCounter('imagecast_releases', 'releases', 'Releases that ended, by cloud and outcome')
    .add(1, tags);
  const seconds = (Date.now() - workflowInfo().runStartTime.getTime()) / 1000;
  metricMeter
    .createHistogram(
      'imagecast_release_seconds',
      'float',
      's',
      "Seconds from a release run's start to its end",
    )
    .record(seconds, tags);
}

/** A release that met a failure retries did not cure and now waits for a decision. */
export function recordReleaseBlocked(cloud: string, step: string): void {
  metricMeter
    .createCounter('imagecast_release_blocks', 'blocks', 'Times a release blocked, by cloud and step')
    .add(1, { cloud, step });
}
