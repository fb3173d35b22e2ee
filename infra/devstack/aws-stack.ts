import { join } from 'node:path';
import { ensureStackMasterKeys } from './stack-master-keys.js';
import { startEc2Shim } from './ec2-shim.js';
import { startMotoServer } from './moto-server.js';

/**
 * Access keys for the emulated account. moto takes any keys (every key is its account
 * 123456789012); these only need the shapes the account schema checks.
 */
export const EMULATOR_KEYS = {
  accessKeyId: 'AKIAIMAGECASTSTACK01',
  secretAccessKey: 'imagecast-stack-secret-not-a-real-key-01',
} as const;

export interface AwsStack {
  /** What IMAGECAST_AWS_ENDPOINT must be: the EC2 shim, which forwards to moto. */
  endpoint: string;
  motoEndpoint: string;
  /** A master keys file made for this stack, so stored accounts can be opened by worker and CLI. */
  masterKeysFile: string;
  stop(): Promise<void>;
}

/**
 * moto (every AWS service, in memory) behind our EC2 shim (the EC2 actions moto lacks),
 * for EC2 releases by hand (`npm run stack -- --aws`, docs/ec2.md). moto keeps nothing
 * across restarts: add the account again after one.
 */
export async function startAwsStack(stateDir: string): Promise<AwsStack> {
  const moto = await startMotoServer({ logFile: join(stateDir, 'moto.log') });
  const shim = await startEc2Shim({ upstream: moto.endpoint }).catch(async (error: unknown) => {
    await moto.stop();
    throw error;
  });
  const masterKeysFile = ensureStackMasterKeys(stateDir);
  return {
    endpoint: shim.endpoint,
    motoEndpoint: moto.endpoint,
    masterKeysFile,
    stop: async () => {
      await shim.stop();
      await moto.stop();
    },
  };
}
