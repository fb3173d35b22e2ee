import { chmodSync, existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { generateKey } from '../../secrets/key-ring.js';

/**
 * The stack's master keys file (made once, kept with its state), so accounts stored with
 * `imagecast account` can be opened by the worker and the CLI of the same stack.
 */
export function ensureStackMasterKeys(stateDir: string): string {
  const masterKeysFile = join(stateDir, 'master-keys.json');
  if (!existsSync(masterKeysFile)) {
    writeFileSync(masterKeysFile, JSON.stringify({ current: 'stack', keys: { stack: generateKey() } }), { mode: 0o600 });
    chmodSync(masterKeysFile, 0o600);
  }
  return masterKeysFile;
}
