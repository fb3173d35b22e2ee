import type { CloudName } from './steps.js';

/** What a preflight check is about; each names the job field or account setting to fix. */
export type PreflightCheck = 'credentials' | 'region-enabled' | 'image-name' | 'public-sharing' | 'bucket';

/**
 * One problem the release would meet, found before anything is uploaded: where (account,
 * region), which check, what is wrong and what to do. Plain data, never a secret: it travels
 * through workflow history, the CLI's output and the release's error.
 */
export interface PreflightProblem {
  cloud: CloudName;
  account: string;
  /** Absent where the problem is the account's as a whole (its credentials). */
  region?: string;
  check: PreflightCheck;
  message: string;
  fix: string;
}

/** One line per problem, as the CLI and the failed release say it. */
export function formatPreflightProblem(p: PreflightProblem): string {
  const where = p.region
    ? `${p.cloud} account ${p.account}, region ${p.region}`
    : `${p.cloud} account ${p.account}`;
  return `${where}: [${p.check}] ${p.message}. Fix: ${p.fix}`;
}
