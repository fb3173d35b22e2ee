import type { PreflightInput } from '../provider.js';
import type { AzureImageOptions } from '../../schemas/release-plan.js';
import type { PreflightProblem } from '../../schemas/preflight.js';
import { credentialsProblem, preflightProblemMaker, verdictMessage } from '../common/preflight.js';
import { arm } from './arm-errors.js';
import { azure } from './azure-errors.js';
import type { AzureClients } from './clients.js';
import { regionKey } from './gallery.js';

/**
 * Azure's own preflight, read-only. One Resource Manager read, the Microsoft.Compute
 * provider of the subscription (Providers - Get), proves the credentials work, says whether
 * the provider is registered, and lists the regions where the release's resource type
 * (galleries, or managed images) exists: every target region must be one. Then the upload's
 * container must be reachable (it is never created: the storage account is the account's).
 * share_with "all" needs a community gallery, which the upload's own check refuses already.
 */
export async function preflightAzure(
  c: AzureClients,
  input: PreflightInput,
  o: AzureImageOptions,
): Promise<PreflightProblem[]> {
  const { account } = input.release;
  const problem = preflightProblemMaker('azure', account);
  const resourceType = o.gallery ? 'galleries' : 'images';
  let provider;
  try {
    provider = await arm('providers.get Microsoft.Compute', () =>
      c.resources.providers.get('Microsoft.Compute'),
    );
  } catch (error) {
    return [credentialsProblem('azure', account, "the account's credentials do not work", error)];
  }
  const problems: PreflightProblem[] = [];
  if (provider.registrationState && provider.registrationState !== 'Registered') {
    problems.push(
      problem(
        'credentials',
        undefined,
        `the resource provider Microsoft.Compute is ${provider.registrationState} in subscription ${c.subscriptionId}`,
        'register it (az provider register --namespace Microsoft.Compute) and wait until it is Registered',
      ),
    );
  }
  const locations = provider.resourceTypes?.find(
    (t) => t.resourceType?.toLowerCase() === resourceType,
  )?.locations;
  const known = new Set((locations ?? []).map(regionKey));
  for (const region of input.regions) {
    if (locations && !known.has(regionKey(region))) {
      problems.push(
        problem(
          'region-enabled',
          region,
          `${region} is not a region where Microsoft.Compute/${resourceType} exists for this subscription`,
          "use the region's name as `az account list-locations -o table` prints it (e.g. westeurope), or remove it from the job's regions (region, additional_regions)",
        ),
      );
    }
  }
  problems.push(...(await containerProblem(c, o, problem)));
  return problems;
}

async function containerProblem(
  c: AzureClients,
  o: AzureImageOptions,
  problem: ReturnType<typeof preflightProblemMaker>,
): Promise<PreflightProblem[]> {
  const where = { account: o.storageAccount, container: o.container };
  const container = c.blobService(o.storageAccount).getContainerClient(o.container);
  try {
    await azure('read container properties', where, () => container.getProperties());
    return [];
  } catch (error) {
    return [
      problem(
        'bucket',
        undefined,
        `the upload's container cannot be used: ${verdictMessage(error)}`,
        `create container "${o.container}" in storage account ${o.storageAccount}, or name an existing one (source_container, source_storage_account), and give the account's identity "Storage Blob Data Contributor" on it`,
      ),
    ];
  }
}
