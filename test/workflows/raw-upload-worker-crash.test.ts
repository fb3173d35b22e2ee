// The raw_image_upload step when its worker is SIGKILLed mid-file: a new worker continues the
// same S3 multipart upload from the last heartbeat (the file read again from its start, the
// parts before the checkpoint not sent again), and the bucket holds one object, byte-identical
// to the file.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { defaultPayloadConverter } from '@temporalio/common';
import {
  GetObjectCommand,
  ListMultipartUploadsCommand,
  ListObjectsV2Command,
  type S3Client,
} from '@aws-sdk/client-s3';
import type { ManagedProcess } from '../../infra/devstack/child-process.js';
import { startWorkerProcess } from '../support/worker-process.js';
import { startReleaseHarness, type ReleaseHarness } from '../support/release-harness.js';
import { startAwsEmulator, type AwsEmulator } from '../support/aws-emulator.js';
import { tempDir } from '../support/stack.js';

const MiB = 1024 ** 2;
const BUCKET = 'crash-raw-images';

describe('a worker killed during the raw image upload', () => {
  let aws: AwsEmulator;
  let h: ReleaseHarness;
  let s3: S3Client;
  const logs = tempDir('raw-crash-logs');
  const accountsFile = join(logs, 'accounts.json');
  const workers: ManagedProcess[] = [];
  const startEc2Worker = (name: string) => {
    const worker = startWorkerProcess(h, 'ec2', join(logs, `${name}.log`), {
      IMAGECAST_ACCOUNTS_FILE: accountsFile,
      IMAGECAST_AWS_ENDPOINT: aws.endpoint,
    });
    workers.push(worker);
    return worker;
  };

  before(async () => {
    aws = await startAwsEmulator('raw-crash');
    await writeFile(accountsFile, JSON.stringify(aws.accountsJson));
    s3 = aws.s3();
    await aws.createBucket(BUCKET);
    // The workflows and local queues run here; the ec2 queue (the S3 bucket's) in killable workers.
    h = await startReleaseHarness('raw-crash', {
      queues: ['workflows', 'local'],
      diskMiB: 64,
      accounts: aws.accounts,
    });
  });
  after(async () => {
    for (const w of workers) await w.stop('SIGKILL');
    await h?.stop();
    await aws?.stop();
  });

  it('is replaced by a new worker that continues the same upload and leaves one object', async () => {
    const { fileName } = await h.publish('1');
    const first = startEc2Worker('first');
    const { releaseId } = await h.client.startRelease(
      h.job({
        raw_image_upload_type: 's3bucket',
        raw_image_upload_location: `${BUCKET}/crash/`,
        raw_image_upload_account: 'test-aws',
      }),
    );
    const handle = h.client.temporal.workflow.getHandle(releaseId);
    // Slow the build service once the raw upload reads the file, so the kill lands mid-file.
    let checkpoint = 0;
    for (;;) {
      const pending = (await handle.describe()).raw.pendingActivities?.find(
        (a) => a.activityType?.name === 'uploadRawImage',
      );
      if (pending) h.buildServer.setThrottle(4 * MiB);
      const payload = pending?.heartbeatDetails?.payloads?.[0];
      const beat = payload
        ? defaultPayloadConverter.fromPayload<{ transfer?: { diskOffset: number } }>(payload)
        : undefined;
      checkpoint = beat?.transfer?.diskOffset ?? 0;
      if (checkpoint >= 16 * MiB) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    await first.stop('SIGKILL');
    h.buildServer.setThrottle(undefined);
    startEc2Worker('second');

    const done = await h.client.waitForRelease(releaseId, { pollIntervalMs: 500 });
    assert.equal(done.state, 'succeeded', done.error);
    const served = await readFile(join(h.buildRoot, fileName));
    const key = `crash/${done.imageName}.raw`;
    assert.equal(done.rawUpload?.image.sha512, createHash('sha512').update(served).digest('hex'));
    const body = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: key }));
    assert.ok(Buffer.from(await body.Body!.transformToByteArray()).equals(served));
    const listed = await s3.send(new ListObjectsV2Command({ Bucket: BUCKET }));
    assert.deepEqual(
      listed.Contents?.map((c) => c.Key),
      [key],
      'one object',
    );
    assert.equal(
      (await s3.send(new ListMultipartUploadsCommand({ Bucket: BUCKET }))).Uploads?.length ?? 0,
      0,
      'no unfinished upload',
    );
    // The new worker read the file again from its start (its sha256 and sha512 are node:crypto's,
    // whose state a heartbeat cannot carry) and continued the same multipart upload.
    const reads = h.buildServer.requests.filter((r) => r.path.endsWith(fileName));
    assert.ok(reads.length >= 2 && reads.every((r) => r.range === undefined), 'the file read again, whole');
  });
});
