import type { protos } from '@google-cloud/compute';
import type { DeprecateImageInput, PublishImageInput } from '../provider.js';
import type { GceClients } from './clients.js';
import { gce } from './gce-errors.js';
import { stableRequestId } from './labels.js';
import { runOperation } from './operations.js';

type Policy = protos.google.cloud.compute.v1.IPolicy;

/** The role that lets a principal create disks and instances from an image. */
export const IMAGE_USER_ROLE = 'roles/compute.imageUser';

/** share_with → IAM members: `all` is every signed-in Google account, as GCE public images are. */
export function imageUserMembers(shareWith: PublishImageInput['shareWith']): string[] {
  if (shareWith === 'none') return [];
  if (shareWith === 'all') return ['allAuthenticatedUsers'];
  return shareWith;
}

/**
 * Grants roles/compute.imageUser on the image to the members share_with names
 * (images.getIamPolicy / setIamPolicy, read-modify-write with the policy's etag:
 * https://cloud.google.com/compute/docs/reference/rest/v1/images/setIamPolicy). Members
 * already granted are left alone, so publishing twice changes nothing.
 */
export async function publishGceImage(c: GceClients, input: PublishImageInput): Promise<void> {
  const members = imageUserMembers(input.shareWith);
  if (members.length === 0) return;
  const resource = input.image.imageName;
  const [policy] = await gce(`images.getIamPolicy ${resource}`, () =>
    c.images.getIamPolicy({ project: c.project, resource, optionsRequestedPolicyVersion: 3 }),
  );
  const updated = withMembers(policy, IMAGE_USER_ROLE, members);
  if (!updated) return;
  await gce(`images.setIamPolicy ${resource}`, () =>
    c.images.setIamPolicy({ project: c.project, resource, globalSetPolicyRequestResource: { policy: updated } }),
  );
}

/** The policy with `members` holding `role`, or undefined when it already does. */
export function withMembers(policy: Policy, role: string, members: string[]): Policy | undefined {
  const bindings = [...(policy.bindings ?? [])].map((b) => ({ ...b, members: [...(b.members ?? [])] }));
  let binding = bindings.find((b) => b.role === role && !b.condition);
  if (!binding) {
    binding = { role, members: [] };
    bindings.push(binding);
  }
  const missing = members.filter((m) => !binding.members.includes(m));
  if (missing.length === 0) return undefined;
  binding.members.push(...missing);
  return { ...policy, bindings };
}

/** `months` after `from`, on the same day of the month where it exists (else the month's last day). */
export function monthsLater(from: Date, months: number): Date {
  const target = new Date(Date.UTC(from.getUTCFullYear(), from.getUTCMonth() + months, 1));
  const lastDay = new Date(Date.UTC(target.getUTCFullYear(), target.getUTCMonth() + 1, 0)).getUTCDate();
  target.setUTCDate(Math.min(from.getUTCDate(), lastDay));
  target.setUTCHours(from.getUTCHours(), from.getUTCMinutes(), from.getUTCSeconds());
  return target;
}

/**
 * Deprecates the old image in favour of its replacement, as mash does: state DEPRECATED,
 * the replacement's selfLink, and a `deleted` date `months_to_deletion` months away (GCE only
 * records that date; the retirement schedule's delete_after_days deletes).
 * https://cloud.google.com/compute/docs/reference/rest/v1/images/deprecate
 */
export async function deprecateGceImage(c: GceClients, input: DeprecateImageInput, now = new Date()): Promise<{ deleteAfter: string }> {
  const months = input.options?.cloud === 'gce' ? input.options.monthsToDeletion : 6;
  const replacement = `https://www.googleapis.com/compute/v1/projects/${c.project}/global/images/${input.replacement.imageName}`;
  const deleteAfter = monthsLater(now, months).toISOString();
  await runOperation(c, `images.deprecate ${input.image.imageName}`, () =>
    c.images.deprecate({
      project: c.project,
      image: input.image.imageName,
      requestId: stableRequestId(input.release, `deprecate:${input.image.imageName}`),
      deprecationStatusResource: {
        state: 'DEPRECATED',
        replacement,
        deprecated: now.toISOString(),
        deleted: deleteAfter,
      },
    }),
  );
  return { deleteAfter };
}
