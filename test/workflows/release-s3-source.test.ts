// mash's download_type "S3" on a local-cloud release: the image is one object in moto, read
// with the EC2 account's stored keys (the workflow carries the account's name only). Checked:
// the image made is the object's bytes, verified against KEY.sha256 beside it or the SHA-256
// S3 stored for the object, and a KEY.sha256 that does not match fails ChecksumMismatch; an
// object with no checksum at all is released with the sha256 its upload computed, marked not
// verified, and a build watch refuses it; a missing object or an unknown account fail the
// download step, naming what is wrong, before anything is uploaded.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { startReleaseHarness, type ReleaseHarness } from '../support/release-harness.js';
import { startAwsEmulator, TEST_KEYS, type AwsEmulator } from '../support/aws-emulator.js';
import { replayAndRecord } from '../support/replay-history.js';
import { queueName, WORKFLOWS_QUEUE_SUFFIX } from '../../schemas/steps.js';
import type { BuildWatchResult } from '../../workflows/release-new-builds.js';

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

  it('releases an object with no checksum anywhere: the upload computes its sha256, marked not verified', async () => {
    const bare = `bare/${fileName}`;
    // Without a checksum algorithm: S3 stores no SHA-256, and there is no sidecar either.
    await s3.send(
      new PutObjectCommand({ Bucket: BUCKET, Key: bare, Body: image, ChecksumAlgorithm: 'CRC32' }),
    );
    const { releaseId } = await h.client.startRelease(s3Job(bare));
    const done = await imageMadeFrom(releaseId);
    const sum = `sha256:${createHash('sha256').update(image).digest('hex')}`;
    assert.equal(done.checksum?.value, sum);
    assert.equal(done.checksum?.verified, false);
    assert.match(
      done.checksum?.note ?? '',
      /computed, not verified: .*a corrupted read would not be detected.*Publish \S+\.sha256/,
    );
    assert.match(done.steps.find((s) => s.name === 'download')!.detail ?? '', /no published checksum/);
    assert.match(done.steps.find((s) => s.name === 'upload')!.detail ?? '', /sha256 computed/);
    const rows = (await h.catalog.listImages({ cloud: 'local' })).filter(
      (r) => r.imageName === done.imageName,
    );
    assert.deepEqual(
      rows.map((r) => [r.region, r.checksum]),
      [
        ['region-1', sum],
        ['region-2', sum],
      ],
      'the catalog records the computed checksum for the image and its copy',
    );
    for (const region of ['region-1', 'region-2']) {
      const made = h.imagesIn(region).filter((i) => i.imageName === done.imageName);
      assert.deepEqual(
        made.map((i) => i.checksum),
        [sum],
        `the image in ${region} carries it`,
      );
    }
    // The workflow's result says where the checksum came from, for programs.
    const result = (await h.client.temporal.workflow.getHandle(releaseId).result()) as {
      source?: { checksumFrom?: string; checksum: { hex: string } };
      status: { checksum?: { verified: boolean } };
    };
    assert.equal(result.source?.checksumFrom, 'stream');
    assert.equal(`sha256:${result.source?.checksum.hex}`, sum);
    assert.equal(result.status.checksum?.verified, false);
    await replayAndRecord(h.client.temporal, releaseId, 'release-local-s3-source-computed-checksum');
  });

  it('fails ChecksumMismatch when KEY.sha256 does not match the object, leaving no image', async () => {
    const key = `wrong/${fileName}`;
    await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: image }));
    await s3.send(
      new PutObjectCommand({
        Bucket: BUCKET,
        Key: `${key}.sha256`,
        Body: `${'0'.repeat(64)}  ${fileName}\n`,
      }),
    );
    const { releaseId } = await h.client.startRelease(
      s3Job(key, { cloud_image_name: 's3src-wrong-v{date}' }),
    );
    const done = await h.client.waitForRelease(releaseId, { pollIntervalMs: 200 });
    assert.equal(done.state, 'failed');
    assert.match(done.error ?? '', /its sha256 is [0-9a-f]{64}, but its checksum file says 0{64}/);
    assert.equal(done.steps.find((s) => s.name === 'upload')!.state, 'failed');
    assert.equal(done.images.length, 0);
    assert.equal(done.checksum, undefined, 'a published checksum is not reported as computed');
  });

  it('a build watch (utctime "always") releases nothing from an object with no checksum, saying why', async () => {
    const bare = `bare/${fileName}`;
    const workflowId = `s3src-watch-${Date.now()}`;
    const watch = (await h.client.temporal.workflow.execute('releaseNewBuilds', {
      workflowId,
      taskQueue: queueName(h.queuePrefix, WORKFLOWS_QUEUE_SUFFIX),
      args: [s3Job(bare, { utctime: 'always', cloud_image_name: 's3src-watch-v{date}' })],
    })) as BuildWatchResult;
    assert.equal(watch.released, false);
    assert.match(
      watch.reason,
      /publishes no checksum .* cannot tell whether it was released already; publish \S+\.sha256/,
    );
    await replayAndRecord(h.client.temporal, workflowId, 'build-watch-s3-source-no-checksum');
  });

  it('fails the download step before any upload: missing object, unknown account', async () => {
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
