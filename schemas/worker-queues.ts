import { CLOUDS, WORKFLOWS_QUEUE_SUFFIX, type CloudName } from './steps.js';

/**
 * What a worker may be told to serve (`--queues`, IMAGECAST_QUEUES). Each cloud has two task
 * queues: `<prefix><cloud>` for its cloud calls (register, copy, share, test, ...) and
 * `<prefix><cloud>-upload` for the home-region upload, so a slot waiting on a copy never holds
 * an upload slot and long uploads never starve the calls. The names a worker takes:
 * - `<cloud>`: everything for that cloud, both task queues (what one process did before the split);
 * - `<cloud>-calls`: the cloud calls only (`<prefix><cloud>`);
 * - `<cloud>-upload`: the uploads only (`<prefix><cloud>-upload`).
 */
export const UPLOAD_QUEUE_SUFFIX = '-upload';
const CALLS_SUFFIX = '-calls';

export type CloudCallsQueue = `${CloudName}${typeof CALLS_SUFFIX}`;
export type CloudUploadQueue = `${CloudName}${typeof UPLOAD_QUEUE_SUFFIX}`;
export type WorkerQueue = typeof WORKFLOWS_QUEUE_SUFFIX | CloudName | CloudCallsQueue | CloudUploadQueue;

/** Every name `--queues` accepts, grouped per cloud: workflows, local, local-calls, local-upload, ec2, ... */
export const WORKER_QUEUES = [
  WORKFLOWS_QUEUE_SUFFIX,
  ...CLOUDS.flatMap((cloud) => [
    cloud,
    `${cloud}${CALLS_SUFFIX}` as const,
    `${cloud}${UPLOAD_QUEUE_SUFFIX}` as const,
  ]),
] as [typeof WORKFLOWS_QUEUE_SUFFIX, ...WorkerQueue[]];

/** One Temporal task queue a worker process polls, and what runs there. */
export interface ServedTaskQueue {
  /** The task queue without the prefix: `workflows`, `ec2`, `ec2-upload`. */
  suffix: string;
  /** workflows and cloud-neutral activities; a cloud's calls; a cloud's uploads. */
  role: 'workflows' | 'calls' | 'upload';
  cloud?: CloudName;
}

/** The task queue of a cloud's uploads, from its calls' queue (`imagecast-ec2` → `imagecast-ec2-upload`). */
export function uploadQueueOf(cloudQueue: string): string {
  return `${cloudQueue}${UPLOAD_QUEUE_SUFFIX}`;
}

/** The task queues a worker serves for the names it was given, each once, in the order given. */
export function servedTaskQueues(queues: readonly WorkerQueue[]): ServedTaskQueue[] {
  const served = new Map<string, ServedTaskQueue>();
  const add = (queue: ServedTaskQueue) => served.set(queue.suffix, queue);
  for (const queue of queues) {
    if (queue === WORKFLOWS_QUEUE_SUFFIX) {
      add({ suffix: queue, role: 'workflows' });
      continue;
    }
    const [cloud, part] = queue.split('-') as [CloudName, 'calls' | 'upload' | undefined];
    if (part !== 'upload') add({ suffix: cloud, role: 'calls', cloud });
    if (part !== 'calls') add({ suffix: `${cloud}${UPLOAD_QUEUE_SUFFIX}`, role: 'upload', cloud });
  }
  return [...served.values()];
}

/** The clouds a worker needs a provider (and accounts) for. */
export function cloudsServed(queues: readonly WorkerQueue[]): CloudName[] {
  return [...new Set(servedTaskQueues(queues).flatMap((q) => (q.cloud ? [q.cloud] : [])))];
}
