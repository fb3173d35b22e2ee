import { readFile } from 'node:fs/promises';
import { accountsFileSchema, type AccountsFile, type AzureAccount, type Ec2Account, type GceAccount } from '../../schemas/accounts.js';
import { jsonPath } from '../../schemas/job/issues.js';
import { nonRetryable } from '../common/errors.js';

/**
 * Where activities look accounts up by name. Workflows carry only names; the account (and
 * its credentials) is read here, at call time, and never returned to a workflow.
 */
export interface AccountDirectory {
  ec2Account(name: string): Promise<Ec2Account>;
  /** The accounts of a group, in the order they were configured. */
  ec2Group(name: string): Promise<Ec2Account[]>;
  gceAccount(name: string): Promise<GceAccount>;
  azureAccount(name: string): Promise<AzureAccount>;
}

/** Accounts held in memory (from a file or given by a test), validated like the file. */
export function accountDirectory(input: unknown, origin = 'accounts'): AccountDirectory {
  const parsed = accountsFileSchema.safeParse(input);
  if (!parsed.success) {
    // zod's messages never echo the input, so no secret value reaches this error.
    const lines = parsed.error.issues.map((i) => `${jsonPath(i.path)}: ${i.message}`);
    throw new Error(`${origin}: invalid accounts\n${lines.join('\n')}`);
  }
  return fromAccounts(parsed.data);
}

/** Reads the accounts file once; a bad file stops the worker at start, naming the field. */
export async function loadAccountDirectory(path: string): Promise<AccountDirectory> {
  const text = await readFile(path, 'utf8').catch((error: NodeJS.ErrnoException) => {
    throw new Error(`cannot read the accounts file ${path}: ${error.code ?? error.message}`);
  });
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new Error(`the accounts file ${path} is not JSON: ${(error as Error).message}`);
  }
  return accountDirectory(json, path);
}

function fromAccounts(accounts: AccountsFile): AccountDirectory {
  const byName = new Map(accounts.ec2.map((a) => [a.name, a]));
  const configured = () => [...byName.keys()].join(', ') || 'none';
  return {
    async ec2Account(name) {
      const account = byName.get(name);
      if (!account) {
        throw nonRetryable('UnknownAccount', `no EC2 account named "${name}" (configured: ${configured()})`);
      }
      return account;
    },
    async ec2Group(name) {
      const members = accounts.ec2.filter((a) => a.group === name);
      if (members.length === 0) {
        const groups =
          [...new Set(accounts.ec2.flatMap((a) => (a.group ? [a.group] : [])))].join(', ') || 'none';
        throw nonRetryable('UnknownAccount', `no EC2 account is in group "${name}" (groups: ${groups})`);
      }
      return members;
    },
    async gceAccount(name) {
      const account = accounts.gce.find((a) => a.name === name);
      if (!account) {
        const names = accounts.gce.map((a) => a.name).join(', ') || 'none';
        throw nonRetryable('UnknownAccount', `no GCE account named "${name}" (configured: ${names})`);
      }
      return account;
    },
    async azureAccount(name) {
      const account = accounts.azure.find((a) => a.name === name);
      if (!account) {
        const names = accounts.azure.map((a) => a.name).join(', ') || 'none';
        throw nonRetryable('UnknownAccount', `no Azure account named "${name}" (configured: ${names})`);
      }
      return account;
    },
  };
}

/** A directory without accounts: the local cloud needs none. */
export const NO_ACCOUNTS: AccountDirectory = accountDirectory({});
