import type { Ec2Account } from '../../schemas/accounts.js';
import { nonRetryable } from '../common/errors.js';
import type { AccountDirectory } from './account-directory.js';
import { UnknownAccountError, type AccountStore } from './account-store.js';

/**
 * Accounts from the encrypted store, opened at call time and kept in memory only briefly:
 * long enough that a release's hundreds of calls do not each decrypt, short enough that an
 * updated or deleted account takes effect within a minute.
 */
export function storedAccountDirectory(store: AccountStore, ttlMs = 30_000, now = () => Date.now()): AccountDirectory {
  const cache = new Map<string, { at: number; value: Promise<unknown> }>();
  function cached<T>(key: string, load: () => Promise<T>): Promise<T> {
    const hit = cache.get(key);
    if (hit && now() - hit.at < ttlMs) return hit.value as Promise<T>;
    const value = load();
    cache.set(key, { at: now(), value });
    value.catch(() => cache.delete(key));
    return value;
  }
  return {
    ec2Account: (name) =>
      cached(`account:${name}`, async () => {
        try {
          return await store.get('ec2', name);
        } catch (error) {
          if (error instanceof UnknownAccountError) throw nonRetryable('UnknownAccount', error.message);
          throw error;
        }
      }),
    gceAccount: (name) =>
      cached(`gce:${name}`, async () => {
        try {
          return await store.get('gce', name);
        } catch (error) {
          if (error instanceof UnknownAccountError) throw nonRetryable('UnknownAccount', error.message);
          throw error;
        }
      }),
    azureAccount: (name) =>
      cached(`azure:${name}`, async () => {
        try {
          return await store.get('azure', name);
        } catch (error) {
          if (error instanceof UnknownAccountError) throw nonRetryable('UnknownAccount', error.message);
          throw error;
        }
      }),
    ec2Group: (group) =>
      cached(`group:${group}`, async (): Promise<Ec2Account[]> => {
        const members = await store.group('ec2', group);
        if (members.length === 0) {
          const { groups } = await store.names('ec2');
          throw nonRetryable('UnknownAccount', `no EC2 account is in group "${group}" (groups: ${groups.join(', ') || 'none'})`);
        }
        return members;
      }),
  };
}
