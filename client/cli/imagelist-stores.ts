// The stores behind `imagecast imagelist endorser|add|list|…|publish`, and how those commands
// print: their result as text or (--json) JSON, errors as every other command's.
import type { Command } from 'commander';
import type pg from 'pg';
import { EndorserStore } from '../../activities/common/imagelist/endorser-store.js';
import { ImageListStore } from '../../activities/common/imagelist/list-store.js';
import { runCommand } from './command-output.js';
import { EXIT_OK } from './exit-codes.js';
import { addStoreOptions, cliActor, masterKeysFromEnv, withDatabase } from './store-connection.js';

export interface ImageListStores {
  lists: ImageListStore;
  endorsers: EndorserStore;
  /** The database itself, for what else a command needs (the account store of publish targets). */
  pool: pg.Pool;
}

export interface StoreFlags {
  databaseUrl?: string;
  json?: boolean;
}

/** --database-url and --json, which every stored-list command takes. */
export function storeCommand(command: Command): Command {
  return addStoreOptions(command).option('--json', 'print the result as JSON');
}

/**
 * Runs a command on the stores and prints `text(result)`, or the result as JSON. The master
 * key is read only by the commands that seal or open an endorser's key (endorser add, publish,
 * export --signed), so the others run without it.
 */
export async function runOnStores<T>(
  flags: StoreFlags,
  action: (stores: ImageListStores) => Promise<T>,
  text: (result: T) => string,
): Promise<void> {
  await runCommand(flags, async () => {
    const result = await withDatabase(flags, (pool) => {
      const endorsers = new EndorserStore(pool, masterKeysFromEnv, cliActor());
      return action({ endorsers, lists: new ImageListStore(pool, endorsers, cliActor()), pool });
    });
    console.log(flags.json ? JSON.stringify(result, null, 2) : text(result));
    return EXIT_OK;
  });
}

/** `dc:title=Alpine 3.20` → ['dc:title', 'Alpine 3.20']; the first `=` splits (HEPiX keys have none). */
export function keyValuePairs(pairs: string[]): Array<[string, string]> {
  return pairs.map((pair) => {
    const eq = pair.indexOf('=');
    if (eq <= 0) throw new KeyValueError(pair);
    return [pair.slice(0, eq), pair.slice(eq + 1)];
  });
}

class KeyValueError extends Error {
  override name = 'UsageError';
  constructor(pair: string) {
    super(
      `KEY=VALUE: expected a HEPiX key, =, and its value, such as dc:title="Alpine 3.20"; given ${JSON.stringify(pair)}`,
    );
  }
}
