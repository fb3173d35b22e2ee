// An S3 object with no checksum anywhere (no KEY.sha256, no SHA-256 stored by S3), its upload
// worker SIGKILLed mid-object: the new worker reads the object again from its start, checks
// the part already uploaded against the digest the heartbeat kept, writes only the rest, and
// the release ends with one image per region whose recorded checksum is the sha256 of the
// object's bytes, marked computed, not verified. The object is served through a relay slowed
// to a few MiB/s so that the kill lands mid-upload.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { CreateBucketCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import type { ManagedProcess } from '../../infra/devstack/child-process.js';
import { startWorkerProcess } from '../support/worker-process.js';
import { uploadProgressAtLeast } from '../support/upload-progress.js';
import { startReleaseHarness, type ReleaseHarness } from '../support/release-harness.js';
import { startAwsEmulator, TEST_KEYS, type AwsEmulator } from '../support/aws-emulator.js';
import { startThrottledProxy, type ThrottledProxy } from '../support/throttled-proxy.js';
import { tempDir } from '../support/stack.js';

const MiB = 1024 ** 2;
const BUCKET = 'bare-builds';

describe('a worker killed while uploading an S3 object that publishes no checksum', () => {
  let aws: AwsEmulator;
  let relay: ThrottledProxy;
  let h: ReleaseHarness;
  let s3: S3Client;
  const logs = tempDir('s3-computed-crash-logs');
  const accountsFile = join(logs, 'accounts.json');
  const workers: ManagedProcess[] = [];
  const startLocalWorker = (name: string) => {
    const worker = startWorkerProcess(h, 'local', join(logs, `${name}.log`), {
      IMAGECAST_LOCAL_DATA_DIR: h.localDataDir,
      IMAGECAST_ACCOUNTS_FILE: accountsFile,
      // The upload reads the object through the slowed relay; the download step (here) reads moto directly.
      IMAGECAST_AWS_ENDPOINT: relay.endpoint,
    });
    workers.push(worker);
    return worker;
  };

  before(async () => {
    aws = await startAwsEmulator('s3-computed-crash');
    relay = await startThrottledProxy(aws.endpoint);
    await writeFile(accountsFile, JSON.stringify(aws.accountsJson));
    s3 = new S3Client({
      region: 'us-east-1',
      endpoint: aws.endpoint,
      forcePathStyle: true,
      credentials: { accessKeyId: TEST_KEYS.access_key_id, secretAccessKey: TEST_KEYS.secret_access_key },
    });
    await s3.send(new CreateBucketCommand({ Bucket: BUCKET }));
    // The workflows queue runs here; the local cloud's uploads in killable worker processes.
    h = await startReleaseHarness('s3-computed-crash', {
      queues: ['workflows'],
      diskMiB: 32,
      accounts: aws.accounts,
      awsEndpoint: aws.endpoint,
    });
  });
  after(async () => {
    for (const w of workers) await w.stop('SIGKILL');
    await h?.stop();
    await relay?.stop();
    s3?.destroy();
    await aws?.stop();
  });

  it('is replaced by a worker that re-reads, checks the uploaded prefix, and makes one image per region', async () => {
    const { fileName } = await h.publish('1');
    const image = await readFile(join(h.buildRoot, fileName));
    const key = `bare/${fileName}`;
    await s3.send(
      new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: image, ChecksumAlgorithm: 'CRC32' }),
    );
    relay.setRate(3 * MiB);
    const first = startLocalWorker('first');
    const { releaseId } = await h.client.startRelease(
      h.job({
        download_type: 'S3',
        download_url: `s3://${BUCKET}/${key}`,
        download_account: 'test-aws',
        cloud_image_name: 's3-computed-crash-v{date}',
        additional_regions: ['region-2'],
        last_service: 'publish',
      }),
    );

    const beat = await uploadProgressAtLeast(h.client.temporal, releaseId, 4 * MiB);
    assert.ok(beat.prefixChecksum, 'the heartbeat keeps the digest of the uploaded prefix');
    await first.stop('SIGKILL');
    relay.setRate(undefined);
    startLocalWorker('second');

    const done = await h.client.waitForRelease(releaseId, { pollIntervalMs: 500 });
    assert.equal(done.state, 'succeeded', done.error);
    const sha256 = createHash('sha256').update(image).digest('hex');
    for (const region of ['region-1', 'region-2']) {
      const made = h.imagesIn(region);
      assert.equal(made.length, 1, `exactly one image in ${region}`);
      assert.equal(
        made[0]!.checksum,
        `sha256:${sha256}`,
        `the image in ${region} records the computed sha256`,
      );
      const disk = await readFile(
        join(h.localDataDir, 'test', region, 'images', `${String(made[0]!.imageId)}.raw`),
      );
      assert.ok(disk.equals(image), `the disk in ${region} is the object's bytes`);
    }
    const rows = await h.catalog.listImages({ cloud: 'local', state: 'active' });
    assert.deepEqual(
      rows.map((r) => r.checksum),
      [`sha256:${sha256}`, `sha256:${sha256}`],
      'the catalog records the computed sha256',
    );
    assert.equal(done.checksum?.value, `sha256:${sha256}`);
    assert.equal(done.checksum?.verified, false);
    assert.ok(
      h.allCloudFiles().every((f) => !f.includes('staging/') && !f.includes('disks/')),
      'no second upload, staging file or intermediate disk left',
    );
  });
});
