// `imagecast imagelist image upload` and `publish` to s3://, gs:// and azure-blob:// targets, as
// people run them: the compiled CLI against a real PostgreSQL (accounts in the encrypted store),
// writing through the clouds' object writers to the real emulators (moto behind the EC2 shim,
// fake-gcs-server behind its resume shim, Azurite). Each list is read back from its bucket and
// must pass `openssl smime -verify` and our verify, image file size and sha512 included.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type pg from 'pg';
import { GetObjectCommand, HeadObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { BlobServiceClient, StorageSharedKeyCredential } from '@azure/storage-blob';
import { AccountStore } from '../../../activities/accounts/account-store.js';
import { startAzurite, type Azurite } from '../../../infra/devstack/azurite.js';
import { createPool } from '../../../infra/db/pool.js';
import { migrate } from '../../../infra/db/migrate.js';
import { keyRingMasterKeys } from '../../../secrets/envelope.js';
import { singleKeyRing } from '../../../secrets/key-ring.js';
import { startAwsEmulator, TEST_KEYS, type AwsEmulator } from '../../support/aws-emulator.js';
import { AZURE_TEST_CREDENTIALS } from '../../support/azure-emulator.js';
import { runCli } from '../../support/cli-process.js';
import { TEST_GCE_KEY } from '../../support/gce-key.js';
import { startGcsEmulator, type GcsEmulator } from '../../support/gcs-emulator.js';
import { makeTestCa, opensslRun, type IssuedCert, type TestCa } from '../../support/openssl-ca.js';
import { freshDatabaseUrl, tempDir } from '../../support/stack.js';

const MiB = 1024 ** 2;
const DN = '/C=DE/O=GermanGrid/OU=Imagecast/CN=Object Store Endorser/emailAddress=lists@example.org';
const BUCKET = 'imagelists';
const STORAGE = 'imageliststore';
const CONTAINER = 'web';
/** Bigger than one 16 MiB block: the writers' multipart/chunked/block paths all run. */
const image = randomBytes(20 * MiB + 12_345);
const imageSha512 = createHash('sha512').update(image).digest('hex');

describe('imagecast imagelist publish to object stores (moto S3, fake-gcs-server, Azurite)', () => {
  const dir = tempDir('cli-imagelist-objects');
  const imageFile = join(dir, 'disk.raw');
  let ca: TestCa;
  let endorser: IssuedCert;
  let pool: pg.Pool;
  let env: NodeJS.ProcessEnv;
  let aws: AwsEmulator;
  let gcs: GcsEmulator;
  let azurite: Azurite;
  let s3: S3Client;

  before(async () => {
    writeFileSync(imageFile, image);
    ca = makeTestCa(join(dir, 'ca'));
    endorser = ca.issue('endorser', DN);
    [aws, gcs, azurite] = await Promise.all([
      startAwsEmulator('imagelist-objects'),
      startGcsEmulator('imagelist-objects'),
      startAzurite({ accounts: [STORAGE] }),
    ]);
    s3 = aws.s3();
    await aws.createBucket(BUCKET);
    await gcs.createBucket(BUCKET);
    await blobContainer().create();

    const databaseUrl = await freshDatabaseUrl('cli-imagelist-objects');
    pool = createPool(databaseUrl);
    await migrate(pool);
    const masterKey = randomBytes(32).toString('base64');
    const accounts = new AccountStore(
      pool,
      keyRingMasterKeys(singleKeyRing(masterKey, 'IMAGECAST_MASTER_KEY')),
      'test',
    );
    await accounts.add('ec2', { name: 'lists-aws', region: 'us-east-1', credentials: TEST_KEYS });
    await accounts.add('gce', {
      name: 'lists-gce',
      zone: 'us-east1-b',
      bucket: BUCKET,
      credentials: TEST_GCE_KEY,
    });
    await accounts.add('azure', {
      name: 'lists-azure',
      region: 'westeurope',
      source_container: CONTAINER,
      source_resource_group: 'rg',
      source_storage_account: STORAGE,
      credentials: AZURE_TEST_CREDENTIALS,
    });
    const configFile = join(dir, 'config.json');
    writeFileSync(
      configFile,
      JSON.stringify({
        imagelist_publish: [
          {
            uri_match: 'https://lists.example.org/s3/',
            uri_replace: `s3://${BUCKET}/s3/`,
            account: 'lists-aws',
          },
          {
            uri_match: 'https://lists.example.org/gcs/',
            uri_replace: `gs://${BUCKET}/gcs/`,
            account: 'lists-gce',
          },
          {
            uri_match: 'https://lists.example.org/azure/',
            uri_replace: `azure-blob://${STORAGE}/${CONTAINER}/azure/`,
            account: 'lists-azure',
          },
        ],
      }),
    );
    env = {
      ...process.env,
      IMAGECAST_DATABASE_URL: databaseUrl,
      IMAGECAST_MASTER_KEY: masterKey,
      IMAGECAST_MASTER_KEYS_FILE: '',
      IMAGECAST_CONFIG: configFile,
      IMAGECAST_AWS_ENDPOINT: aws.endpoint,
      IMAGECAST_GCS_ENDPOINT: gcs.endpoint,
      IMAGECAST_AZURE_BLOB_ENDPOINT: azurite.root,
      IMAGECAST_AZURE_BLOB_KEY: azurite.accountKey,
    };
    const added = await runCli(
      ['imagelist', 'endorser', 'add', '--cert', endorser.certPath, '--key', endorser.keyPath],
      env,
    );
    assert.equal(added.status, 0, added.stderr);
  });
  after(async () => {
    await pool?.end();
    await Promise.all([aws?.stop(), gcs?.stop(), azurite?.stop()]);
  });

  function blobContainer() {
    const key = new StorageSharedKeyCredential(STORAGE, azurite.accountKey);
    return new BlobServiceClient(`${azurite.root}/${STORAGE}`, key).getContainerClient(CONTAINER);
  }

  const json = async (args: string[]) => {
    const ran = await runCli(['imagelist', ...args, '--json'], env);
    assert.equal(ran.status, 0, `${args.join(' ')}: ${ran.stdout}${ran.stderr}`);
    return JSON.parse(ran.stdout);
  };

  /** Stores a list with one image under https://lists.example.org/<prefix>/, uploads the image, publishes. */
  async function uploadAndPublish(prefix: string) {
    const list = await json([
      'add',
      '--title',
      `${prefix} images`,
      '--uri',
      `https://lists.example.org/${prefix}/image.list`,
    ]);
    const imageUri = `https://lists.example.org/${prefix}/images/disk.raw`;
    const added = await json([
      'image',
      'add',
      list.identifier,
      'dc:title=Disk',
      'dc:description=A test disk',
      `hv:uri=${imageUri}`,
      'hv:size=1',
      `sl:checksum:sha512=${'0'.repeat(128)}`,
      'sl:arch=x86_64',
      'sl:os=Linux',
      'sl:osversion=1',
      'sl:comments=',
      'hv:hypervisor=kvm',
      'hv:version=1.0.0',
    ]);
    const imageId = added.images[0]['dc:identifier'] as string;
    const uploaded = await json(['image', 'upload', list.identifier, imageId, imageFile]);
    assert.deepEqual(
      { size: uploaded.size, sha512: uploaded.sha512 },
      { size: image.length, sha512: imageSha512 },
      'size and sha512 from the one streaming read',
    );
    const published = await json(['publish', list.identifier]);
    assert.equal(published.version, '0.0.1');
    return { identifier: list.identifier as string, uploaded, published };
  }

  /** openssl's verify and ours (signature, chain, identifier, and the image file read back). */
  async function assertSubscribersAccept(
    identifier: string,
    signedList: Buffer,
    imageBytes: Buffer,
    label: string,
  ) {
    const readBack = join(dir, label);
    mkdirSync(readBack, { recursive: true });
    writeFileSync(join(readBack, 'image.list'), signedList);
    writeFileSync(join(readBack, 'disk.raw'), imageBytes);
    const content = JSON.parse(
      opensslRun(['smime', '-verify', '-in', join(readBack, 'image.list'), '-CAfile', ca.certPath]),
    );
    const body = content['hv:imagelist'];
    assert.equal(body['hv:images'][0]['hv:image']['sl:checksum:sha512'], imageSha512);
    assert.equal(body['hv:images'][0]['hv:image']['hv:size'], image.length);
    const verified = await runCli(
      [
        'imagelist',
        'verify',
        join(readBack, 'image.list'),
        '--ca',
        ca.certPath,
        '--identifier',
        identifier,
        '--images',
        readBack,
      ],
      env,
    );
    assert.equal(verified.status, 0, verified.stdout + verified.stderr);
  }

  it('s3:// (moto): the image file as a multipart upload and the signed list, with the stored EC2 account', async () => {
    const { identifier, uploaded, published } = await uploadAndPublish('s3');
    assert.equal(uploaded.target, `s3://${BUCKET}/s3/images/disk.raw`);
    assert.equal(published.target, `s3://${BUCKET}/s3/image.list`);
    const read = async (Key: string) =>
      Buffer.from(
        await (await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key }))).Body!.transformToByteArray(),
      );
    const head = await s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key: 's3/image.list' }));
    assert.equal(head.ContentType, 'text/plain; charset=utf-8');
    await assertSubscribersAccept(
      identifier,
      await read('s3/image.list'),
      await read('s3/images/disk.raw'),
      's3',
    );
  });

  it('gs:// (fake-gcs-server): through one resumable session each, with the stored GCE account', async () => {
    const { identifier, published } = await uploadAndPublish('gcs');
    assert.equal(published.target, `gs://${BUCKET}/gcs/image.list`);
    const bucket = (await gcs.clients()).storage.bucket(BUCKET);
    const [list] = await bucket.file('gcs/image.list').download();
    const [disk] = await bucket.file('gcs/images/disk.raw').download();
    await assertSubscribersAccept(identifier, list, disk, 'gcs');
  });

  it('azure-blob:// (Azurite): block blobs in the storage account and container the target names', async () => {
    const { identifier, published } = await uploadAndPublish('azure');
    assert.equal(published.target, `azure-blob://${STORAGE}/${CONTAINER}/azure/image.list`);
    const container = blobContainer();
    const list = await container.getBlobClient('azure/image.list').downloadToBuffer();
    const disk = await container.getBlobClient('azure/images/disk.raw').downloadToBuffer();
    const properties = await container.getBlobClient('azure/image.list').getProperties();
    assert.equal(properties.contentType, 'text/plain; charset=utf-8');
    await assertSubscribersAccept(identifier, list, disk, 'azure');
  });

  it('refuses an account of the target cloud that is not stored, naming it; nothing is published', async () => {
    const list = await json([
      'add',
      '--title',
      'unknown account',
      '--uri',
      'https://lists.example.org/s3/other.list',
    ]);
    const configFile = join(dir, 'unknown-account.json');
    writeFileSync(
      configFile,
      JSON.stringify({
        imagelist_publish: [
          { uri_match: 'https://lists.example.org/', uri_replace: `s3://${BUCKET}/`, account: 'nobody' },
        ],
      }),
    );
    const ran = await runCli(['imagelist', 'publish', list.identifier], {
      ...env,
      IMAGECAST_CONFIG: configFile,
    });
    assert.notEqual(ran.status, 0);
    assert.match(ran.stderr, /nobody/);
    assert.equal((await json(['show', list.identifier])).version, '0.0.0');
  });
});
