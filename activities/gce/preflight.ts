import type { PreflightInput } from '../provider.js';
import type { PreflightProblem } from '../../schemas/preflight.js';
import { credentialsProblem, preflightProblemMaker } from '../common/preflight.js';
import type { GceClients } from './clients.js';
import { gce } from './gce-errors.js';

/**
 * GCE's own preflight, read-only: the account's credentials work in its project (images.list
 * of one image, which the release needs anyway), and the bucket the tarball goes to exists
 * and can be read (buckets.get: a missing bucket or one the account may not see fails here
 * rather than after the download). Regions need no check: images are global.
 *
 * `share_with: all` is not checked: what refuses `allAuthenticatedUsers` is an organization
 * policy (constraints/iam.allowedPolicyMemberDomains), readable only through the Org Policy
 * API, which neither @google-cloud/compute nor the release's role offers. The publish step
 * reports such a refusal with Google's message.
 */
export async function preflightGce(
  c: GceClients,
  bucket: string,
  input: PreflightInput,
): Promise<PreflightProblem[]> {
  const { account } = input.release;
  const problem = preflightProblemMaker('gce', account);
  try {
    await gce(`images.list in ${c.project}`, () =>
      c.images.list({ project: c.project, maxResults: 1 }, { autoPaginate: false }),
    );
  } catch (error) {
    return [
      credentialsProblem('gce', account, `the account cannot read images in project ${c.project}`, error),
    ];
  }
  try {
    await c.storage.bucket(bucket).get();
    return [];
  } catch (error) {
    const status = (error as { code?: unknown }).code;
    if (status !== 404 && status !== 403 && status !== 401) throw error; // a retry may cure it
    const why = status === 404 ? 'does not exist' : "cannot be read with the account's credentials";
    return [
      problem(
        'bucket',
        undefined,
        `the bucket gs://${bucket} ${why} (HTTP ${status})`,
        `create it, or grant the account roles/storage.objectAdmin on it, or set the job's bucket / the account's --bucket to one that does (docs/gce.md)`,
      ),
    ];
  }
}
