// A local-cloud release with mash's raw image upload to an S3 bucket in moto: the step runs on
// the ec2 queue with the EC2 account's stored credentials, and the object's URL, size and
// sha512 reach the status board and the release's result.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { GetObjectCommand, ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import { startReleaseHarness, type ReleaseHarness } from '../support/release-harness.js';
import { startAwsEmulator, TEST_KEYS, type AwsEmulator } from '../support/aws-emulator.js';
import { replayAndRecord } from '../support/replay-history.js';
import type { ReleaseResult } from '../../workflows/release-image.js';

const BUCKET = 'release-raw-images';

describe('release workflow with raw_image_upload (local cloud, moto S3)', () => {
  let aws: AwsEmulator;
  let h: ReleaseHarness;
  let s3: S3Client;
  before(async () => {
    aws = await startAwsEmulator('release-raw');
    s3 = aws.s3();
    await aws.createBucket(BUCKET);
    h = await startReleaseHarness('release-raw', {
      queues: ['workflows', 'local', 'ec2'],
      diskMiB: 24,
      accounts: aws.accounts,
      providers: { ec2: aws.provider() },
    });
  });
  after(async () => {
    await h?.stop();
    await aws?.stop();
  });

  it('copies the image file and its checksum file to the bucket after test, and reports url, size and sha512', async () => {
    const { fileName } = await h.publish('1');
    const { releaseId } = await h.client.startRelease(
      h.job({
        raw_image_upload_type: 's3bucket',
        raw_image_upload_location: `${BUCKET}/images/`,
        raw_image_upload_account: 'test-aws',
        additional_uploads: ['sha256'],
      }),
    );
    const done = await h.client.waitForRelease(releaseId, { pollIntervalMs: 200 });
    assert.equal(done.state, 'succeeded', done.error);
    const raw = done.steps.find((s) => s.name === 'raw_image_upload')!;
    assert.equal(raw.state, 'succeeded', raw.detail);

    const served = await readFile(join(h.buildRoot, fileName));
    const key = `images/${done.imageName}.raw`;
    const expected = {
      url: `s3://${BUCKET}/${key}`,
      sizeBytes: served.length,
      sha512: createHash('sha512').update(served).digest('hex'),
    };
    assert.deepEqual(done.rawUpload?.image, expected, 'on the status board');
    const result = (await h.client.temporal.workflow.getHandle(releaseId).result()) as ReleaseResult;
    assert.deepEqual(result.rawUpload?.image, expected, 'in the release result');
    assert.deepEqual(
      result.rawUpload?.additional.map((a) => a.url),
      [`s3://${BUCKET}/${key}.sha256`],
    );

    const body = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: key }));
    assert.ok(
      Buffer.from(await body.Body!.transformToByteArray()).equals(served),
      'the object is the file as served',
    );
    const listed = await s3.send(new ListObjectsV2Command({ Bucket: BUCKET }));
    assert.deepEqual(listed.Contents?.map((c) => c.Key).sort(), [key, `${key}.sha256`]);
    assert.ok(!JSON.stringify(done).includes(TEST_KEYS.secret_access_key), 'no credential in the status');
    await replayAndRecord(h.client.temporal, releaseId, 'release-local-raw-upload');
  });
});
