import {
  DescribeRegionsCommand,
  GetImageBlockPublicAccessStateCommand,
  type Region,
} from '@aws-sdk/client-ec2';
import type { PreflightInput } from '../provider.js';
import type { PreflightProblem } from '../../schemas/preflight.js';
import {
  credentialsProblem,
  preflightProblemMaker,
  verdictMessage,
  type PreflightProblemMaker,
} from '../common/preflight.js';
import { aws } from './aws-errors.js';
import type { AwsClients } from './sessions.js';

/**
 * EC2's own preflight, read-only: the account's credentials work (DescribeRegions in its
 * home region is the cheapest signed call every role may make), every target region is
 * enabled for it (opt-in regions, `OptInStatus`), and, for `share_with: all`, image block
 * public access is off in every region. The public-AMI quota is not checked: reading it needs
 * Service Quotas, which the release's role is not granted (docs/ec2.md).
 */
export async function preflightEc2(
  clients: (region: string) => Promise<AwsClients>,
  input: PreflightInput,
): Promise<PreflightProblem[]> {
  const { account } = input.release;
  const problem = preflightProblemMaker('ec2', account);
  const [home] = input.regions;
  let regions: Region[];
  try {
    const c = await clients(home!);
    const answer = await aws(`DescribeRegions in ${home}`, () =>
      c.ec2.send(new DescribeRegionsCommand({ AllRegions: true })),
    );
    regions = answer.Regions ?? [];
  } catch (error) {
    return [credentialsProblem('ec2', account, "the account's credentials do not work", error)];
  }

  const problems: PreflightProblem[] = [];
  const usable: string[] = [];
  for (const region of input.regions) {
    const known = regions.find((r) => r.RegionName === region);
    if (!known) {
      problems.push(
        problem(
          'region-enabled',
          region,
          `${region} is not a region this account can use (not in its partition's DescribeRegions)`,
          "remove it from the job's regions (additional_regions) or fix the account's partition",
        ),
      );
    } else if (known.OptInStatus === 'not-opted-in') {
      problems.push(
        problem(
          'region-enabled',
          region,
          `${region} is an opt-in region not enabled for this account`,
          `enable it (AWS console: Account → AWS Regions, or \`aws account enable-region --region-name ${region}\`) and wait until it is ENABLED, or remove it from the job's regions`,
        ),
      );
    } else usable.push(region);
  }
  if (input.shareWith === 'all')
    problems.push(
      ...(await Promise.all(usable.map((region) => publicSharingProblem(clients, region, problem)))).flat(),
    );
  return problems;
}

/** Image block public access (per account and region): while on, making an AMI public fails. */
async function publicSharingProblem(
  clients: (region: string) => Promise<AwsClients>,
  region: string,
  problem: PreflightProblemMaker,
): Promise<PreflightProblem[]> {
  try {
    const c = await clients(region);
    const state = await aws(`GetImageBlockPublicAccessState in ${region}`, () =>
      c.ec2.send(new GetImageBlockPublicAccessStateCommand({})),
    );
    if (state.ImageBlockPublicAccessState !== 'block-new-sharing') return [];
    const byPolicy = state.ManagedBy === 'declarative-policy';
    return [
      problem(
        'public-sharing',
        region,
        `image block public access is on (block-new-sharing${byPolicy ? ', set by an AWS Organizations declarative policy' : ''}): share_with "all" would be refused`,
        byPolicy
          ? 'ask the organization\'s administrator to allow public AMIs in this region, or share with account ids instead of "all"'
          : `turn it off (\`aws ec2 disable-image-block-public-access --region ${region}\`), or share with account ids instead of "all"`,
      ),
    ];
  } catch (error) {
    return [
      problem(
        'public-sharing',
        region,
        `cannot read the image block public access state: ${verdictMessage(error)}`,
        'grant the account ec2:GetImageBlockPublicAccessState (docs/ec2.md), or share with account ids instead of "all"',
      ),
    ];
  }
}
