import type { PreflightInput } from '../provider.js';
import type { PreflightProblem } from '../../schemas/preflight.js';
import { join } from 'node:path';
import { safeSegment, type LocalStore } from './store.js';
import { preflightProblemMaker } from '../common/preflight.js';

/**
 * The local cloud's own preflight: the account and region names are usable, no region is
 * disabled for the account (a `DISABLED` file), and, for `share_with: all`, no region blocks
 * public images (a `BLOCK-PUBLIC` file). The files are the local cloud's faults, standing in
 * for EC2's opt-in regions and image block public access.
 */
export async function preflightLocal(store: LocalStore, input: PreflightInput): Promise<PreflightProblem[]> {
  const { account } = input.release;
  const problem = preflightProblemMaker('local', account);
  try {
    safeSegment('account', account);
  } catch (error) {
    return [problem('credentials', undefined, (error as Error).message, 'use another cloud_account')];
  }
  const problems = await Promise.all(
    input.regions.map(async (region): Promise<PreflightProblem[]> => {
      const disabled = await store.closedReason(account, region, 'enabled');
      if (disabled) {
        const file = join(store.dataDir, account, region, 'DISABLED');
        return [
          problem(
            'region-enabled',
            region,
            `region ${region} is not enabled for the account: ${disabled}`,
            `remove ${file}, or remove the region from the job`,
          ),
        ];
      }
      const blocked = input.shareWith === 'all' && (await store.closedReason(account, region, 'public'));
      if (!blocked) return [];
      const file = join(store.dataDir, account, region, 'BLOCK-PUBLIC');
      return [
        problem(
          'public-sharing',
          region,
          `public images are blocked: ${blocked}`,
          `remove ${file}, or share with account names instead of "all"`,
        ),
      ];
    }),
  );
  return problems.flat();
}
