// What the load bench does with releases: start one and time it from the start call to the
// workflow's close, read activity schedule-to-start from histories, and count the images a
// batch of releases left in the local cloud's store and in the catalog.
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { temporal } from '@temporalio/proto';
import type { LoadStack } from './load-stack.js';

export const ACCOUNT = 'bench';
const REGION = 'region-1';

export interface ReleaseOutcome {
  n: number;
  releaseId: string;
  /** Start call → the workflow's close time (server clock; same machine). */
  latencyMs: number;
  state: string;
}

/** One region, no image tests, publish as the last step: the smallest whole release. */
export function loadJob(stack: LoadStack, tag: string, n: number) {
  return {
    cloud: 'local',
    cloud_account: ACCOUNT,
    region: REGION,
    cloud_image_name: `load-${tag}-${n}-b{release}`,
    image_description: 'release-load bench',
    download_url: stack.buildServerUrl,
    image: 'load-image',
    last_service: 'publish',
    share_with: 'all',
    tests: [],
  };
}

export async function releaseOnce(stack: LoadStack, tag: string, n: number): Promise<ReleaseOutcome> {
  const t0 = Date.now();
  const { releaseId } = await stack.client.startRelease(loadJob(stack, tag, n), { cloud: 'local' });
  const handle = stack.client.temporal.workflow.getHandle(releaseId);
  let state: string;
  try {
    const result = (await handle.result()) as { status?: { state?: string } };
    state = result.status?.state ?? 'unknown';
  } catch (error) {
    state = `failed: ${(error as Error).message}`;
  }
  // Only a failed start may throw from here: the caller counts those as releases never started.
  const closed = await handle.describe().then(
    (d) => d.closeTime,
    () => undefined,
  );
  return { n, releaseId, latencyMs: (closed?.getTime() ?? Date.now()) - t0, state };
}

/** Activity schedule-to-start times (ms) from the releases' histories (ActivityTaskScheduled → Started). */
export async function scheduleToStartMs(stack: LoadStack, releaseIds: string[]): Promise<number[]> {
  const times: number[] = [];
  const ms = (t: temporal.api.history.v1.IHistoryEvent['eventTime']) =>
    Number(t?.seconds ?? 0) * 1000 + (t?.nanos ?? 0) / 1e6;
  const queue = [...releaseIds];
  // A few at a time: the server is what is being measured, the bench should not flood it.
  const reader = async () => {
    for (let id = queue.shift(); id !== undefined; id = queue.shift()) {
      const history = await stack.client.temporal.workflow.getHandle(id).fetchHistory();
      const scheduled = new Map<string, number>();
      for (const event of history.events ?? []) {
        if (event.activityTaskScheduledEventAttributes)
          scheduled.set(String(event.eventId), ms(event.eventTime));
        const started = event.activityTaskStartedEventAttributes;
        const at = started && scheduled.get(String(started.scheduledEventId));
        if (at !== undefined && at !== null && started) times.push(ms(event.eventTime) - at);
      }
    }
  };
  await Promise.all(Array.from({ length: 4 }, reader));
  return times;
}

export interface ImageCounts {
  expected: number;
  /** Releases with no image in the store / no row in the catalog. */
  lostInStore: number[];
  lostInCatalog: number[];
  /** Releases with more than one image in the store / more than one catalog row. */
  duplicatedInStore: number[];
  duplicatedInCatalog: number[];
  /** Uploads or disks left behind in the region (not images). */
  leftoverStaging: number;
  leftoverDisks: number;
}

/** Images of releases `load-<tag>-<n>` for n in 1..count, in the local cloud's store and in the catalog. */
export async function countImages(stack: LoadStack, tag: string, count: number): Promise<ImageCounts> {
  const nameOf = new RegExp(`^load-${tag}-(\\d+)-b`);
  const region = join(stack.cloudDir, ACCOUNT, REGION);
  const inStore = new Map<number, number>();
  const list = (area: string) => readdir(join(region, area)).catch(() => [] as string[]);
  for (const file of (await list('images')).filter((f) => f.endsWith('.json'))) {
    const image = JSON.parse(await readFile(join(region, 'images', file), 'utf8')) as { imageName: string };
    const n = Number(nameOf.exec(image.imageName)?.[1]);
    if (n) inStore.set(n, (inStore.get(n) ?? 0) + 1);
  }
  const rows = await stack.db.query<{ image_name: string; rows: string }>(
    `SELECT image_name, count(*) AS rows FROM catalog_images
      WHERE cloud = 'local' AND account = $1 AND region = $2 AND state <> 'deleted' AND image_name LIKE $3
      GROUP BY image_name`,
    [ACCOUNT, REGION, `load-${tag}-%`],
  );
  const inCatalog = new Map<number, number>();
  for (const row of rows.rows) {
    const n = Number(nameOf.exec(row.image_name)?.[1]);
    if (n) inCatalog.set(n, (inCatalog.get(n) ?? 0) + Number(row.rows));
  }
  const all = Array.from({ length: count }, (_, i) => i + 1);
  return {
    expected: count,
    lostInStore: all.filter((n) => !inStore.has(n)),
    lostInCatalog: all.filter((n) => !inCatalog.has(n)),
    duplicatedInStore: all.filter((n) => (inStore.get(n) ?? 0) > 1),
    duplicatedInCatalog: all.filter((n) => (inCatalog.get(n) ?? 0) > 1),
    leftoverStaging: (await list('staging')).length,
    leftoverDisks: (await list('disks')).filter((f) => f.endsWith('.json')).length,
  };
}
