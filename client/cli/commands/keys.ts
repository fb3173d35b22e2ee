import { randomBytes } from 'node:crypto';
import type { Command } from 'commander';
import { keyIdOf } from '../../../secrets/key-ring.js';
import { EXIT_FAILURE, EXIT_INVALID_INPUT, EXIT_OK } from '../exit-codes.js';
import { addStoreOptions, STORE_ENVIRONMENT, UsageError, withStore } from '../store-connection.js';

/** `imagecast keys generate|rotate`: master keys of the account store. */
export function register(program: Command): void {
  const keys = program
    .command('keys')
    .description('master keys that wrap the accounts\' data keys')
    .addHelpText('after', `\nEnvironment: ${STORE_ENVIRONMENT}.\n\nExample:\n  imagecast keys generate`);

  keys
    .command('generate')
    .description('print a new random 256-bit key (base64) and its id, for IMAGECAST_MASTER_KEY or a keys file')
    .addHelpText(
      'after',
      `
To rotate: add the new key to the keys file, make it "current", run \`imagecast keys rotate\`,
then remove the old key once no account uses it (\`imagecast account ec2 list\` shows each account's key).

Example:
  imagecast keys generate      # k-1a2b3c4d  <base64>`,
    )
    .action(() => {
      const key = randomBytes(32);
      console.log(`${keyIdOf(key)}  ${key.toString('base64')}`);
    });

  addStoreOptions(keys.command('rotate'))
    .description('re-wrap every account\'s data key with the current master key (secrets are not re-entered)')
    .option('--json', 'print JSON')
    .addHelpText('after', '\nExample:\n  IMAGECAST_MASTER_KEYS_FILE=keys.json imagecast keys rotate')
    .action(async (flags: { databaseUrl?: string; json?: boolean }) => {
      try {
        const result = await withStore(flags, (store) => store.rotate());
        console.log(flags.json ? JSON.stringify(result) : `re-wrapped ${result.rewrapped} account(s) with master key ${result.keyId}`);
        process.exitCode = EXIT_OK;
      } catch (error) {
        console.error(`imagecast: ${(error as Error).message}`);
        process.exitCode = error instanceof UsageError ? EXIT_INVALID_INPUT : EXIT_FAILURE;
      }
    });
}
