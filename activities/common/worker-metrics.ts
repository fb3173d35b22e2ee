import { Context } from '@temporalio/activity';
import type { UploadedDisk } from '../provider.js';
import type { ImageTestResult } from './image-tests/run-image-tests.js';
import { testVerdict } from '../../workflows/release-status.js';

// Imagecast's own metrics, exported next to the SDK's (temporal_*) on the worker's Prometheus
// endpoint (IMAGECAST_METRICS_ADDRESS). They go through the activity's metric meter, so they
// carry the SDK's labels (namespace, task_queue, activity_type) as well as ours.

/** A finished upload: what it sent, what the disk holds, and how fast (MiB of disk per second). */
export function recordUpload(cloud: string, disk: UploadedDisk, seconds: number): void {
  const meter = Context.current().metricMeter.withTags({ cloud });
  meter
    .createCounter(
      'imagecast_upload_sent_bytes',
      'bytes',
      'Bytes uploads sent to the cloud (zero blocks not sent), counted when an upload succeeds',
    )
    .add(disk.bytesWritten);
  meter
    .createCounter('imagecast_upload_disk_bytes', 'bytes', 'Disk bytes delivered by successful uploads')
    .add(disk.sizeBytes);
  if (seconds > 0) {
    meter
      .createHistogram(
        'imagecast_upload_mib_per_second',
        'float',
        'MiB/s',
        'MiB of disk per second of each successful upload attempt',
      )
      .record(disk.sizeBytes / 2 ** 20 / seconds);
  }
}

/** One test run's verdicts, one count per test: passed, failed or skipped. */
export function recordImageTests(cloud: string, results: readonly ImageTestResult[]): void {
  const counter = Context.current().metricMeter.createCounter(
    'imagecast_image_tests',
    'tests',
    'Image tests run over SSH, by verdict',
  );
  for (const result of results) {
    const verdict = testVerdict(result);
    counter.add(1, { cloud, verdict: verdict === 'FAILED' ? 'failed' : verdict });
  }
}
