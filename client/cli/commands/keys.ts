import { randomBytes } from 'node:crypto';
import type { Command } from 'commander';
import { keyIdOf } from '../../../secrets/key-ring.js';
import { EXIT_OK } from '../exit-codes.js';
import { addStoreOptions, cliActor, masterKeysFromEnv, STORE_ENVIRONMENT, withStore } from '../store-connection.js';
import { EndorserStore } from '../../../activities/common/imagelist/endorser-store.js';
import { runCommand } from '../command-output.js';

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
  imagecast keys generate          # k-1a2b3c4d  <base64>
  imagecast keys generate --json   # {"keyId": "k-1a2b3c4d", "key": "<base64>"}`,
    )
    .option('--json', 'print JSON: {"keyId", "key"}')
    .action((flags: { json?: boolean }) => {
      const key = randomBytes(32);
      const keyId = keyIdOf(key);
      console.log(flags.json ? JSON.stringify({ keyId, key: key.toString('base64') }) : `${keyId}  ${key.toString('base64')}`);
    });

  addStoreOptions(keys.command('rotate'))
    .description('re-wrap every account\'s (and image list endorser\'s) data key with the current master key (secrets are not re-entered)')
    .option('--json', 'print JSON')
    .addHelpText('after', '\nExample:\n  IMAGECAST_MASTER_KEYS_FILE=keys.json imagecast keys rotate')
    .action((flags: { databaseUrl?: string; json?: boolean }) =>
      runCommand(flags, async () => {
        const result = await withStore(flags, async (store, pool) => ({
          ...(await store.rotate()),
          // Endorser keys of the image lists are sealed the same way (imagecast imagelist endorser).
          endorsers: await new EndorserStore(pool, masterKeysFromEnv, cliActor()).rotate(),
        }));
        console.log(
          flags.json
            ? JSON.stringify(result)
            : `re-wrapped ${result.rewrapped} account(s) with master key ${result.keyId}, and ${result.endorsers} image list endorser(s)`,
        );
        return EXIT_OK;
      }),
    );
}
