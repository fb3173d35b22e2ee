/**
 * moto (the AWS emulator) behind our EC2 shim (the actions moto lacks), plus an EC2 account
 * pointed at it, for tests that drive the EC2 provider for real, and S3 clients for the tests
 * that put or read objects in its buckets.
 */
import { join } from 'node:path';
import {
  DescribeImagesCommand,
  DescribeSnapshotsCommand,
  EC2Client,
  type Image,
  type Snapshot,
} from '@aws-sdk/client-ec2';
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { startMotoServer } from '../../infra/devstack/moto-server.js';
import { startEc2Shim, type Ec2Shim } from '../../infra/devstack/ec2-shim.js';
import { accountDirectory, type AccountDirectory } from '../../activities/accounts/account-directory.js';
import { createEc2Cloud, type Ec2CloudOptions } from '../../activities/ec2/index.js';
import { tempDir } from './stack.js';

export const TEST_KEYS = {
  access_key_id: 'AKIAIMAGECASTTEST0001',
  secret_access_key: 'imagecast-test-secret-0000000000000000001',
};

export interface AwsEmulator {
  /** The endpoint our code talks to (the shim, which forwards to moto). */
  endpoint: string;
  shim: Ec2Shim;
  accountsJson: Record<string, unknown>;
  accounts: AccountDirectory;
  /** An EC2 provider for the configured accounts (`test-aws` and any more), polling fast. */
  provider(overrides?: Partial<Ec2CloudOptions>): ReturnType<typeof createEc2Cloud>;
  ec2(region: string): EC2Client;
  /** An S3 client of the test keys (path-style, as moto wants); stop() destroys it. */
  s3(): S3Client;
  createBucket(name: string): Promise<void>;
  imagesNamed(region: string, name: string): Promise<Image[]>;
  snapshotsIn(region: string): Promise<Snapshot[]>;
  stop(): Promise<void>;
}

export async function startAwsEmulator(
  label: string,
  account: Record<string, unknown> = {},
  moreAccounts: Array<Record<string, unknown>> = [],
  /** How the shim acts: copies pending for a while, temporary credentials expiring after seconds. */
  shimOptions: Omit<Parameters<typeof startEc2Shim>[0], 'upstream'> = {},
): Promise<AwsEmulator> {
  const moto = await startMotoServer({ logFile: join(tempDir(`${label}-moto`), 'moto.log') });
  const shim = await startEc2Shim({ upstream: moto.endpoint, ...shimOptions });
  const accountsJson = {
    ec2: [
      {
        name: 'test-aws',
        partition: 'aws',
        region: 'us-east-1',
        additional_regions: ['eu-west-1'],
        credentials: TEST_KEYS,
        ...account,
      },
      ...moreAccounts,
    ],
  };
  const accounts = accountDirectory(accountsJson);
  const credentials = { accessKeyId: TEST_KEYS.access_key_id, secretAccessKey: TEST_KEYS.secret_access_key };
  const clients: Array<EC2Client | S3Client> = [];
  const ec2 = (region: string) => {
    const client = new EC2Client({ region, endpoint: shim.endpoint, credentials });
    clients.push(client);
    return client;
  };
  const s3 = () => {
    const client = new S3Client({
      region: 'us-east-1',
      endpoint: shim.endpoint,
      forcePathStyle: true,
      credentials,
    });
    clients.push(client);
    return client;
  };
  const providers: Array<ReturnType<typeof createEc2Cloud>> = [];
  return {
    endpoint: shim.endpoint,
    shim,
    accountsJson,
    accounts,
    provider: (overrides = {}) => {
      const p = createEc2Cloud({ accounts, endpoint: shim.endpoint, pollMs: 50, ...overrides });
      providers.push(p);
      return p;
    },
    ec2,
    s3,
    async createBucket(name) {
      await s3().send(new CreateBucketCommand({ Bucket: name }));
    },
    async imagesNamed(region, name) {
      const { Images } = await ec2(region).send(
        new DescribeImagesCommand({ Owners: ['self'], Filters: [{ Name: 'name', Values: [name] }] }),
      );
      return Images ?? [];
    },
    async snapshotsIn(region) {
      const { Snapshots } = await ec2(region).send(new DescribeSnapshotsCommand({ OwnerIds: ['self'] }));
      return Snapshots ?? [];
    },
    async stop() {
      for (const p of providers) p.close();
      for (const c of clients) c.destroy();
      await shim.stop();
      await moto.stop();
    },
  };
}
