// The raw_image_upload activity against real storage emulators: moto (S3 multipart), Azurite
// (block blobs) and fake-gcs-server behind our resume shim (resumable sessions). The image
// file is served by our build service over HTTP; each target gets the file and its
// additional files, and their bytes and sha512 are read back. A failure after some parts
// and a retry from the last heartbeat must finish the same object without re-sending parts.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { MockActivityEnvironment } from '@temporalio/testing';
import {
  GetObjectCommand,
  ListMultipartUploadsCommand,
  ListObjectsV2Command,
  type S3Client,
} from '@aws-sdk/client-s3';
import { BlobServiceClient, StorageSharedKeyCredential } from '@azure/storage-blob';
import { startAwsEmulator, type AwsEmulator } from '../../support/aws-emulator.js';
import { AZURE_TEST_CREDENTIALS } from '../../support/azure-emulator.js';
import { startGcsEmulator, TEST_GCE_ACCOUNT, type GcsEmulator } from '../../support/gcs-emulator.js';
import { TEST_GCE_KEY } from '../../support/gce-key.js';
import { startAzurite, type Azurite } from '../../../infra/devstack/azurite.js';
import { startBuildServer, type BuildServer } from '../../../infra/devstack/build-service.js';
import { accountDirectory } from '../../../activities/accounts/account-directory.js';
import { createAzureCloud } from '../../../activities/azure/index.js';
import { createGceCloud } from '../../../activities/gce/index.js';
import {
  createRawUploadActivities,
  type UploadRawImageInput,
} from '../../../activities/common/raw-upload/raw-upload-activity.js';
import type {
  CloudProvider,
  DiskWriter,
  ReleaseRef,
  ResolvedImageSource,
} from '../../../activities/provider.js';
import type { RawUploadResult, RawUploadSpec } from '../../../schemas/raw-upload.js';
import { tempDir } from '../../support/stack.js';

const MiB = 1024 ** 2;
const FILE = 'test-image.x86_64-1.0.0-Build1.7.raw.xz';
const IMAGE_NAME = 'test-image-v20261206';
const release: ReleaseRef = {
  releaseId: 'raw-upload-test',
  releaseToken: 'run-1',
  cloud: 'local',
  account: 'local',
};

/** 40 MiB of random bytes (not a real xz stream: the upload copies the file as served, unread). */
const content = randomBytes(40 * MiB);
const sha512 = (b: Buffer) => createHash('sha512').update(b).digest('hex');

/** Counts the blocks each writer is asked to write, and fails the upload after `failAfter` of them. */
function instrumented(provider: CloudProvider, options: { failAfter?: number } = {}) {
  const written: number[] = [];
  const wrapped: CloudProvider = {
    ...provider,
    async openObjectWriter(input) {
      const writer = await provider.openObjectWriter!(input);
      const counting: DiskWriter = {
        ...writer,
        async writeBlock(offset, block) {
          if (options.failAfter !== undefined && written.length >= options.failAfter)
            throw new Error('injected: the link dropped');
          written.push(offset);
          await writer.writeBlock(offset, block);
        },
        checkpoint: writer.checkpoint && ((d) => writer.checkpoint!(d)),
        commit: (s, w) => writer.commit(s, w),
        abort: () => writer.abort(),
      };
      return counting;
    },
  };
  return { provider: wrapped, written };
}

async function run(provider: CloudProvider, input: UploadRawImageInput, heartbeatDetails?: unknown) {
  const env = new MockActivityEnvironment(heartbeatDetails === undefined ? {} : { heartbeatDetails });
  const beats: unknown[] = [];
  env.on('heartbeat', (d: unknown) => beats.push(d));
  const { uploadRawImage } = createRawUploadActivities({ provider, progressIntervalMs: 0 });
  try {
    return { result: (await env.run(uploadRawImage, input)) as RawUploadResult, beats };
  } catch (error) {
    return { error: error as Error, beats };
  }
}

describe('raw image upload (moto S3, Azurite, fake-gcs-server)', () => {
  let builds: BuildServer;
  let source: ResolvedImageSource;
  let sha256Text: string;

  before(async () => {
    const root = tempDir('raw-upload-builds');
    await mkdir(root, { recursive: true });
    await writeFile(join(root, FILE), content);
    sha256Text = `${createHash('sha256').update(content).digest('hex')}  ${FILE}\n`;
    await writeFile(join(root, `${FILE}.sha256`), sha256Text);
    await writeFile(
      join(root, `${FILE}.sha256.asc`),
      '-----BEGIN PGP SIGNATURE-----\nnot real\n-----END PGP SIGNATURE-----\n',
    );
    builds = await startBuildServer({ root });
    source = {
      url: `${builds.url}${FILE}`,
      fileName: FILE,
      sizeBytes: content.length,
      compression: 'xz',
      checksum: { algorithm: 'sha256', hex: createHash('sha256').update(content).digest('hex') },
    };
  });
  after(async () => builds?.stop());

  const input = (
    upload: Partial<RawUploadSpec> & Pick<RawUploadSpec, 'type' | 'account' | 'location'>,
  ): UploadRawImageInput => ({
    release,
    source,
    upload: { additionalUploads: [], ...upload },
    imageName: IMAGE_NAME,
    date: '20261206',
  });

  describe('s3bucket (moto)', () => {
    let aws: AwsEmulator;
    let s3: S3Client;
    const BUCKET = 'raw-images';
    before(async () => {
      aws = await startAwsEmulator('raw-upload');
      s3 = aws.s3();
      await aws.createBucket(BUCKET);
    });
    after(async () => {
      await aws?.stop();
    });
    const object = async (Key: string) =>
      Buffer.from(
        await (await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key }))).Body!.transformToByteArray(),
      );

    it('copies the file as served and its additional files under the prefix, named after the image (mash), with sha512 and size', async () => {
      const { result, error } = await run(
        aws.provider(),
        input({
          type: 's3bucket',
          account: 'test-aws',
          location: `${BUCKET}/leap/{date}/`,
          additionalUploads: ['sha256', 'sha256.asc'],
        }),
      );
      assert.ifError(error);
      const key = `leap/20261206/${IMAGE_NAME}.raw.xz`;
      assert.deepEqual(result!.image, {
        url: `s3://${BUCKET}/${key}`,
        sizeBytes: content.length,
        sha512: sha512(content),
      });
      assert.ok((await object(key)).equals(content), 'the object holds the file byte for byte');
      assert.deepEqual(
        result!.additional.map((a) => a.url),
        [`s3://${BUCKET}/${key}.sha256`, `s3://${BUCKET}/${key}.sha256.asc`],
      );
      assert.equal((await object(`${key}.sha256`)).toString(), sha256Text);
      assert.equal(result!.additional[0]!.sha512, sha512(Buffer.from(sha256Text)));
    });

    it('resumes after a failure mid-way: the same multipart upload, no part sent twice, one object', async () => {
      const location = `${BUCKET}/resume/obj.raw.xz`;
      const first = instrumented(aws.provider(), { failAfter: 2 });
      const failed = await run(first.provider, input({ type: 's3bucket', account: 'test-aws', location }));
      assert.match(failed.error?.message ?? '', /injected/);
      const last = failed.beats.at(-1) as { transfer: { diskOffset: number; writer: { uploadId: string } } };
      assert.equal(last.transfer.diskOffset, 32 * MiB, 'the heartbeat says two 16 MiB parts are done');

      const second = instrumented(aws.provider());
      const { result, error } = await run(
        second.provider,
        input({ type: 's3bucket', account: 'test-aws', location }),
        last,
      );
      assert.ifError(error);
      assert.deepEqual(second.written, [32 * MiB], 'only the part after the checkpoint is sent');
      assert.equal(result!.image.sha512, sha512(content), 'the sha512 continued from the saved state');
      assert.ok((await object('resume/obj.raw.xz')).equals(content));
      const listed = await s3.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: 'resume/' }));
      assert.deepEqual(
        listed.Contents?.map((c) => c.Key),
        ['resume/obj.raw.xz'],
      );
      const uploads = await s3.send(new ListMultipartUploadsCommand({ Bucket: BUCKET }));
      assert.equal(uploads.Uploads?.length ?? 0, 0, 'no unfinished upload is left behind');
    });

    it('refuses a file whose bytes do not match its checksum file, and completes no object', async () => {
      const wrong: ResolvedImageSource = {
        ...source,
        checksum: { algorithm: 'sha256', hex: '0'.repeat(64) },
      };
      const { error } = await run(aws.provider(), {
        ...input({ type: 's3bucket', account: 'test-aws', location: `${BUCKET}/bad/` }),
        source: wrong,
      });
      assert.match(error?.message ?? '', /its sha256 is [0-9a-f]{64}, but its checksum file says 0{64}/);
      const listed = await s3.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: 'bad/' }));
      assert.equal(listed.KeyCount ?? 0, 0);
    });
  });

  describe('azure_blob (Azurite)', () => {
    let azurite: Azurite;
    let container: ReturnType<BlobServiceClient['getContainerClient']>;
    const STORAGE = 'rawimagessa';
    let provider: CloudProvider;
    before(async () => {
      azurite = await startAzurite({ accounts: [STORAGE] });
      const key = new StorageSharedKeyCredential(STORAGE, azurite.accountKey);
      container = new BlobServiceClient(`${azurite.root}/${STORAGE}`, key).getContainerClient('raw');
      await container.create();
      const accounts = accountDirectory({
        azure: [
          {
            name: 'azure-raw',
            region: 'westeurope',
            source_container: 'raw',
            source_resource_group: 'rg',
            source_storage_account: STORAGE,
            credentials: AZURE_TEST_CREDENTIALS,
          },
        ],
      });
      provider = createAzureCloud({
        accounts,
        blob: { endpointFor: (a) => `${azurite.root}/${a}`, credentialFor: () => key },
      });
    });
    after(async () => azurite?.stop());

    it('commits the file as one block blob, its additional file next to it, and resumes from staged blocks', async () => {
      const location = `${STORAGE}/raw/images/`;
      const first = instrumented(provider, { failAfter: 1 });
      const failed = await run(
        first.provider,
        input({ type: 'azure_blob', account: 'azure-raw', location, additionalUploads: ['sha256'] }),
      );
      assert.match(failed.error?.message ?? '', /injected/);
      const last = failed.beats.at(-1) as { transfer: { diskOffset: number } };
      assert.equal(last.transfer.diskOffset, 16 * MiB);

      const second = instrumented(provider);
      const { result, error } = await run(
        second.provider,
        input({ type: 'azure_blob', account: 'azure-raw', location, additionalUploads: ['sha256'] }),
        last,
      );
      assert.ifError(error);
      assert.deepEqual(
        second.written.slice(0, 2),
        [16 * MiB, 32 * MiB],
        'the staged first block is not sent again',
      );
      const name = `images/${IMAGE_NAME}.raw.xz`;
      assert.equal(result!.image.url, `${azurite.root}/${STORAGE}/raw/${name}`);
      assert.equal(result!.image.sha512, sha512(content));
      assert.ok((await container.getBlobClient(name).downloadToBuffer()).equals(content));
      assert.equal(
        (await container.getBlobClient(`${name}.sha256`).downloadToBuffer()).toString(),
        sha256Text,
      );
      const names: string[] = [];
      for await (const b of container.listBlobsFlat()) names.push(b.name);
      assert.deepEqual(names.sort(), [name, `${name}.sha256`]);
    });
  });

  describe('gcs (fake-gcs-server)', () => {
    let gcs: GcsEmulator;
    let provider: ReturnType<typeof createGceCloud>;
    const BUCKET = 'raw-images-gcs';
    before(async () => {
      gcs = await startGcsEmulator('raw-upload');
      await gcs.createBucket(BUCKET);
      const accounts = accountDirectory({
        gce: [{ name: TEST_GCE_ACCOUNT, zone: 'us-east1-b', bucket: BUCKET, credentials: TEST_GCE_KEY }],
      });
      provider = createGceCloud({ accounts, storageEndpoint: gcs.endpoint });
    });
    after(async () => {
      await provider?.close();
      await gcs?.stop();
    });

    it('writes the file through one resumable session, continued after a failure without re-sending chunks', async () => {
      const location = `${BUCKET}/raw/`;
      const first = instrumented(provider, { failAfter: 1 });
      const failed = await run(first.provider, input({ type: 'gcs', account: TEST_GCE_ACCOUNT, location }));
      assert.match(failed.error?.message ?? '', /injected/);
      const last = failed.beats.at(-1) as { transfer: { diskOffset: number } };
      assert.equal(last.transfer.diskOffset, 16 * MiB);

      const second = instrumented(provider);
      const { result, error } = await run(
        second.provider,
        input({ type: 'gcs', account: TEST_GCE_ACCOUNT, location, additionalUploads: ['sha256'] }),
        last,
      );
      assert.ifError(error);
      assert.deepEqual(second.written.slice(0, 2), [16 * MiB, 32 * MiB]);
      const name = `raw/${IMAGE_NAME}.raw.xz`;
      assert.equal(result!.image.url, `gs://${BUCKET}/${name}`);
      assert.equal(result!.image.sha512, sha512(content));
      const c = await gcs.clients();
      const [bytes] = await c.storage.bucket(BUCKET).file(name).download();
      assert.ok(bytes.equals(content), 'the object holds the file byte for byte');
      const [files] = await c.storage.bucket(BUCKET).getFiles({ prefix: 'raw/' });
      assert.deepEqual(files.map((f) => f.name).sort(), [name, `${name}.sha256`]);
      void readFile;
    });
  });
});
