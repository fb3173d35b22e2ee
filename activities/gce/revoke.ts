import type { protos } from '@google-cloud/compute';
import { nonRetryable } from '../common/errors.js';
import type { RestoreImageInput, WithdrawImageInput } from '../provider.js';
import type { GceClients } from './clients.js';
import { gce, isNotFound } from './gce-errors.js';
import { getImage } from './images.js';
import { stableRequestId } from './labels.js';
import { IMAGE_USER_ROLE } from './lifecycle.js';
import { runOperation } from './operations.js';

type Policy = protos.google.cloud.compute.v1.IPolicy;

/** The policy without any roles/compute.imageUser binding, or undefined when it has none. */
export function withoutImageUsers(policy: Policy): Policy | undefined {
  const bindings = policy.bindings ?? [];
  const kept = bindings.filter((b) => b.role !== IMAGE_USER_ROLE);
  if (kept.length === bindings.length) return undefined;
  return { ...policy, bindings: kept };
}

/**
 * Revoke's withdrawal of a GCE image: every roles/compute.imageUser binding on it goes
 * (`allAuthenticatedUsers` for share_with all, the members publish granted, conditional ones
 * too), so nobody new can make disks from it; then it is DEPRECATED from now, pointing at the
 * replacement where there is one. An image deprecated already (a later release replaced it)
 * keeps its deprecation and the `deleted` date that release recorded. Instances and disks
 * made from it keep running. An image already gone is fine.
 */
export async function withdrawGceImage(
  c: GceClients,
  input: WithdrawImageInput,
  now = new Date(),
): Promise<void> {
  const name = input.image.imageName;
  const image = await getImage(c, name);
  if (!image) return;
  try {
    await unshare(c, name);
  } catch (error) {
    if (isNotFound(error)) return; // deleted meanwhile
    throw error;
  }
  if (image.deprecated?.state && image.deprecated.state !== 'ACTIVE') return;
  const replacement =
    input.replacement &&
    `https://www.googleapis.com/compute/v1/projects/${c.project}/global/images/${input.replacement.imageName}`;
  await runOperation(c, `images.deprecate ${name}`, () =>
    c.images.deprecate({
      project: c.project,
      image: name,
      requestId: stableRequestId(input.release, `withdraw:${name}`),
      deprecationStatusResource: {
        state: 'DEPRECATED',
        deprecated: now.toISOString(),
        ...(replacement && { replacement }),
      },
    }),
  );
}

/** images.getIamPolicy / setIamPolicy (read-modify-write with the etag, as publish): https://cloud.google.com/compute/docs/reference/rest/v1/images/setIamPolicy */
async function unshare(c: GceClients, resource: string): Promise<void> {
  const [policy] = await gce(`images.getIamPolicy ${resource}`, () =>
    c.images.getIamPolicy({ project: c.project, resource, optionsRequestedPolicyVersion: 3 }),
  );
  const updated = withoutImageUsers(policy);
  if (!updated) return;
  await gce(`images.setIamPolicy ${resource}`, () =>
    c.images.setIamPolicy({
      project: c.project,
      resource,
      globalSetPolicyRequestResource: { policy: updated },
    }),
  );
}

/**
 * Revoke's restoration of an image the revoked release had deprecated: images.deprecate with
 * state ACTIVE, which clears the deprecation and its dates (the API reference:
 * https://cloud.google.com/compute/docs/reference/rest/v1/images/deprecate, and `gcloud
 * compute images deprecate IMAGE --state=ACTIVE`). Its IAM policy was never touched by the
 * deprecation, so it is shared as it was. One that is ACTIVE already is left alone.
 */
export async function restoreGceImage(c: GceClients, input: RestoreImageInput): Promise<void> {
  const name = input.image.imageName;
  const image = await getImage(c, name);
  if (!image) {
    throw nonRetryable(
      'CloudInvalidRequest',
      `GCE image ${name} is gone from project ${c.project}: it cannot be made current again`,
      { image: name },
    );
  }
  if (!image.deprecated?.state || image.deprecated.state === 'ACTIVE') return;
  await runOperation(c, `images.deprecate ${name} (ACTIVE)`, () =>
    c.images.deprecate({
      project: c.project,
      image: name,
      requestId: stableRequestId(input.release, `restore:${name}`),
      deprecationStatusResource: { state: 'ACTIVE' },
    }),
  );
}
