// mash's download_type "S3" on a local-cloud release: the image is one object in moto, read
// with the EC2 account's stored keys (the workflow carries the account's name only). Checked:
// the image made is the object's bytes, verified against KEY.sha256 beside it or the SHA-256
// S3 stored for the object; a missing object, an unknown account or no checksum at all fail
// the download step, naming what is wrong, before anything is uploaded.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { startReleaseHarness, type ReleaseHarness } from '../support/release-harness.js';
import { startAwsEmulator, TEST_KEYS, type AwsEmulator } from '../support/aws-emulator.js';
import { replayAndRecord } from '../support/replay-history.js';

const BUCKET = 'mash-builds';

describe('release workflow with download_type "S3" (local cloud, moto S3)', () => {
  let aws: AwsEmulator;
  let h: ReleaseHarness;
  let s3: S3Client;
  let image: Buffer;
  let fileName: string;
  before(async () => {
    aws = await startAwsEmulator('release-s3src');
    s3 = aws.s3();
    await aws.createBucket(BUCKET);
    h = await startReleaseHarness('release-s3src', {
      queues: ['workflows', 'local'],
      diskMiB: 8,
      accounts: aws.accounts,
      awsEndpoint: aws.endpoint,
    });
    ({ fileName } = await h.publish('1'));
    image = await readFile(join(h.buildRoot, fileName));
  });
  after(async () => {
    await h?.stop();
    await aws?.stop();
  });

  const s3Job = (key: string, overrides: Record<string, unknown> = {}) =>
    h.job({
      download_type: 'S3',
      download_url: `s3://${BUCKET}/${key}`,
      download_account: 'test-aws',
      cloud_image_name: `s3src-${key.replace(/[^a-z0-9]/gi, '').slice(0, 20)}-v{date}-b{release}`,
      additional_regions: ['region-2'],
      last_service: 'publish',
      ...overrides,
    });

  async function imageMadeFrom(releaseId: string) {
    const done = await h.client.waitForRelease(releaseId, { pollIntervalMs: 200 });
    assert.equal(done.state, 'succeeded', done.error);
    for (const region of ['region-1', 'region-2']) {
      const made = done.images.find((i) => i.region === region)!;
      const disk = await readFile(join(h.localDataDir, 'test', region, 'images', `${made.imageId}.raw`));
      assert.ok(disk.equals(image), `the disk in ${region} is the S3 object's bytes`);
    }
    assert.ok(!JSON.stringify(done).includes(TEST_KEYS.secret_access_key), 'no credential in the status');
    return done;
  }

  it('releases the object, verified against KEY.sha256 beside it', async () => {
    const key = `sidecar/${fileName}`;
    await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: image }));
    const sha256 = createHash('sha256').update(image).digest('hex');
    await s3.send(
      new PutObjectCommand({ Bucket: BUCKET, Key: `${key}.sha256`, Body: `${sha256}  ${fileName}\n` }),
    );
    const { releaseId } = await h.client.startRelease(s3Job(key));
    const done = await imageMadeFrom(releaseId);
    // The key is named the build-service way: {release} is the build's.
    assert.match(done.imageName, /-v\d{8}-b1$/);
    assert.match(
      done.steps.find((s) => s.name === 'download')!.detail ?? '',
      new RegExp(fileName.replace(/\./g, '\\.')),
    );
    await replayAndRecord(h.client.temporal, releaseId, 'release-local-s3-source');
  });

  it('releases an object without KEY.sha256, verified against the SHA-256 S3 stored for it', async () => {
    const key = `stored/${fileName}`;
    await s3.send(
      new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: image, ChecksumAlgorithm: 'SHA256' }),
    );
    const { releaseId } = await h.client.startRelease(s3Job(key));
    await imageMadeFrom(releaseId);
  });

  it('fails the download step before any upload: missing object, unknown account, no checksum', async () => {
    const bare = `bare/${fileName}`;
    // Without a checksum algorithm: S3 stores no SHA-256, and there is no sidecar either.
    await s3.send(
      new PutObjectCommand({ Bucket: BUCKET, Key: bare, Body: image, ChecksumAlgorithm: 'CRC32' }),
    );
    const cases: Array<[string, Record<string, unknown>, RegExp]> = [
      [
        `missing/${fileName}`,
        {},
        new RegExp(`^s3://${BUCKET}/missing/\\S+ not found \\(download_account "test-aws"\\)`),
      ],
      [
        `sidecar/${fileName}`,
        { download_account: 'nobody' },
        /download_account "nobody": this worker cannot read S3 sources with it: .*no EC2 account named "nobody"/,
      ],
      [bare, {}, /has no \S+\.sha256 beside it and S3 holds no full-object SHA-256 for it/],
    ];
    for (const [key, overrides, message] of cases) {
      const { releaseId } = await h.client.startRelease(
        s3Job(key, {
          ...overrides,
          cloud_image_name: `s3src-fail-${cases.findIndex((c) => c[0] === key && c[1] === overrides)}-v{date}`,
        }),
      );
      const done = await h.client.waitForRelease(releaseId, { pollIntervalMs: 200 });
      assert.equal(done.state, 'failed', key);
      assert.match(done.error ?? '', message, key);
      assert.equal(done.steps.find((s) => s.name === 'download')!.state, 'failed', key);
      assert.notEqual(done.steps.find((s) => s.name === 'upload')!.state, 'succeeded', key);
      assert.notEqual(done.steps.find((s) => s.name === 'upload')!.state, 'running', key);
      assert.equal(done.images.length, 0, `${key}: no image made`);
    }
  });
});
