/** The release pipeline, in order (mash's service names, so `last_service` means the same). */
export const RELEASE_STEPS = [
  'download',
  'upload',
  'create',
  'test',
  'raw_image_upload',
  'replicate',
  'publish',
  'deprecate',
  'cleanup',
] as const;

export type ReleaseStep = (typeof RELEASE_STEPS)[number];

/** A revoke's steps (imagecast release revoke): unshare and deprecate its images, then make the replaced ones current. */
export const REVOKE_STEPS = ['withdraw', 'restore'] as const;
export type RevokeStep = (typeof REVOKE_STEPS)[number];

/** A step of either workflow's status board. */
export type StepName = ReleaseStep | RevokeStep;

/** Steps a job may name as `last_service` (cleanup always runs). */
export const LAST_SERVICE_STEPS = RELEASE_STEPS.slice(0, -1) as unknown as Exclude<ReleaseStep, 'cleanup'>[];

export const CLOUDS = ['local', 'ec2', 'gce', 'azure'] as const;
export type CloudName = (typeof CLOUDS)[number];

/** Task queue naming: `<prefix>workflows` for workflows and cloud-neutral activities, `<prefix><cloud>` per cloud. */
export const DEFAULT_QUEUE_PREFIX = 'imagecast-';
export const WORKFLOWS_QUEUE_SUFFIX = 'workflows';

export function queueName(prefix: string, queue: CloudName | typeof WORKFLOWS_QUEUE_SUFFIX): string {
  return `${prefix}${queue}`;
}
