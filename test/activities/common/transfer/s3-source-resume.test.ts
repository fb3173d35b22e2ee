// An s3:// source (download_type "S3") against moto behind the EC2 shim: resolved with the EC2
// account's stored keys, read with ranged GetObjects, and a retried upload reads the object
// again from its start (node:crypto's hash state cannot be saved) but writes only what the
// writer does not hold, checking the re-read part against the digest the heartbeat kept. An
// object that publishes no checksum gets the sha256 its upload computed, with the same checks
// on a retry, and is read only while it is the object resolved (its ETag).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { resolveImageSource } from '../../../../activities/common/download/resolve-source.js';
import { useS3SourceAccounts } from '../../../../activities/common/download/s3-source.js';
import { openSourceStream } from '../../../../activities/common/transfer/open-source.js';
import {
  transferImage,
  type TransferResumeState,
} from '../../../../activities/common/transfer/transfer-image.js';
import type { ResolvedImageSource } from '../../../../activities/provider.js';
import { startAwsEmulator, TEST_KEYS, type AwsEmulator } from '../../../support/aws-emulator.js';
import { testSourceInput } from '../../../support/build-sources.js';
import { tempDir } from '../../../support/stack.js';
import { FileDiskWriter, writeTestDisk } from './file-disk-writer.js';

const BLOCK = 64 * 1024;
const BLOCKS = 64;
const BUCKET = 'builds';
const KEY = 'images/img.x86_64-1.0-Build1.1.raw';

describe('s3:// image sources', () => {
  let aws: AwsEmulator;
  let s3: S3Client;
  let diskBytes: Buffer;
  let source: ResolvedImageSource;
  const sinks = tempDir('s3src-disks');
  before(async () => {
    aws = await startAwsEmulator('s3src');
    useS3SourceAccounts({ accounts: aws.accounts, endpoint: aws.endpoint });
    s3 = aws.s3();
    const disk = join(tempDir('s3src-disk'), 'disk.raw');
    await writeTestDisk(disk, { blocks: BLOCKS, blockSize: BLOCK, dataEvery: 2 });
    diskBytes = await readFile(disk);
    await aws.createBucket(BUCKET);
    await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: KEY, Body: diskBytes }));
    const sha256 = createHash('sha256').update(diskBytes).digest('hex');
    await s3.send(
      new PutObjectCommand({
        Bucket: BUCKET,
        Key: `${KEY}.sha256`,
        Body: `${sha256}  img.x86_64-1.0-Build1.1.raw\n`,
      }),
    );
    source = await resolveS3Source(KEY);
  });
  after(async () => {
    await aws?.stop();
  });

  /** Resolves `key` in the bucket as the download step would, with the EC2 account's keys. */
  const resolveS3Source = (key: string) =>
    resolveImageSource(
      testSourceInput(`s3://${BUCKET}/${key}`, { downloadType: 'S3', downloadAccount: 'test-aws' }),
    );
  const writerAt = (path: string, resumeOffset = 0) =>
    FileDiskWriter.open(path, {
      blockSize: BLOCK,
      maxConcurrentWrites: 4,
      zeroBlocksMayBeSkipped: true,
      resumeOffset,
      maxWriteDelayMs: 3,
    });
  /** An upload of `from` to `path` stopped once half the disk is written: the heartbeat it left. */
  async function interruptedUpload(from: ResolvedImageSource, path: string): Promise<TransferResumeState> {
    const first = await writerAt(path);
    const controller = new AbortController();
    let resume: TransferResumeState | undefined;
    await assert.rejects(
      transferImage({
        source: from,
        writer: first,
        signal: controller.signal,
        progressIntervalMs: 0,
        onProgress: (p) => {
          resume = p.resume;
          if (p.resume.diskOffset >= diskBytes.length / 2)
            controller.abort(new Error('worker shutting down'));
        },
      }),
      /worker shutting down/,
    );
    await first.close();
    assert.ok(
      resume && resume.diskOffset > 0 && resume.prefixChecksum,
      'the heartbeat keeps the written prefix and its digest',
    );
    return resume;
  }

  it('resolves size, build time, ETag and the sidecar checksum, keeping only the account name', () => {
    assert.equal(source.url, `s3://${BUCKET}/${KEY}`);
    assert.equal(source.fileName, 'img.x86_64-1.0-Build1.1.raw');
    assert.equal(source.downloadAccount, 'test-aws');
    assert.equal(source.sizeBytes, diskBytes.length);
    assert.equal(source.compression, 'none');
    // The key is named the build-service way: its version and release fill {version} and {release}.
    assert.equal(source.version, '1.0');
    assert.equal(source.release, '1.1');
    assert.ok(source.builtAt && !Number.isNaN(Date.parse(source.builtAt)));
    assert.match(source.etag ?? '', /^"[0-9a-f]{32}"$/);
    assert.deepEqual(source.checksum, {
      algorithm: 'sha256',
      hex: createHash('sha256').update(diskBytes).digest('hex'),
    });
    assert.ok(!JSON.stringify(source).includes(TEST_KEYS.secret_access_key));
  });

  it('opens the object at an offset with a Range, and past its end as empty', async () => {
    const opened = await openSourceStream(source.url, 1000, undefined, 'test-aws');
    assert.equal(opened.offset, 1000);
    assert.equal(opened.totalBytes, diskBytes.length);
    const chunks: Buffer[] = [];
    for await (const chunk of opened.stream) chunks.push(chunk as Buffer);
    assert.ok(Buffer.concat(chunks).equals(diskBytes.subarray(1000)));
    const end = await openSourceStream(source.url, diskBytes.length, undefined, 'test-aws');
    assert.equal(end.offset, diskBytes.length);
    assert.equal((await end.stream.toArray()).length, 0);
  });

  it('fails non-retryably, naming the account, when the worker has no such EC2 account', async () => {
    await assert.rejects(
      openSourceStream(source.url, 0, undefined, 'elsewhere'),
      (error: Error & { nonRetryable?: boolean }) => {
        assert.match(
          error.message,
          /^download_account "elsewhere": this worker cannot read S3 sources with it: no EC2 account named "elsewhere"/,
        );
        assert.equal(error.nonRetryable, true);
        return true;
      },
    );
  });

  it('resumes an interrupted upload: the part already written is re-read and checked, not written again', async () => {
    const path = join(sinks, 'disk.raw');
    const resume = await interruptedUpload(source, path);
    const writer = await writerAt(path, resume.diskOffset);
    const uploaded = await transferImage({ source, writer, resume });
    assert.ok(
      writer.written.every((offset) => offset >= resume.diskOffset),
      'nothing below the resume point rewritten',
    );
    assert.equal(uploaded.sourceBytesRead, diskBytes.length, 'the object was read whole, from its start');
    assert.equal(uploaded.sizeBytes, diskBytes.length);
    assert.ok((await readFile(path)).equals(diskBytes), 'the checksum passed and the disk is identical');
  });
  describe('an object that publishes no checksum', () => {
    const BARE = 'images/bare/img.x86_64-1.0-Build1.1.raw';
    const resolveBare = () => resolveS3Source(BARE);
    const putBare = (body: Buffer) =>
      s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: BARE, Body: body, ChecksumAlgorithm: 'CRC32' }));
    /** An upload of `bare` to `path` interrupted, then the object replaced (first byte flipped): the retry's writer. */
    async function retryAfterReplacing(bare: ResolvedImageSource, path: string) {
      const resume = await interruptedUpload(bare, path);
      const changed = Buffer.from(diskBytes);
      changed[0] = changed[0]! ^ 0xff;
      await putBare(changed);
      return { resume, writer: await writerAt(path, resume.diskOffset) };
    }
    const rejectsChecksumMismatch = (retry: Promise<unknown>, message: RegExp) =>
      assert.rejects(retry, (error: Error & { type?: string }) => {
        assert.equal(error.type, 'ChecksumMismatch');
        assert.match(error.message, message);
        return true;
      });

    it('resolves with checksumFrom "stream" and no digest yet', async () => {
      await putBare(diskBytes);
      const bare = await resolveBare();
      assert.equal(bare.checksumFrom, 'stream');
      assert.deepEqual(bare.checksum, { algorithm: 'sha256', hex: '' });
      assert.match(bare.etag ?? '', /^"[0-9a-f]{32}"$/);
    });

    it('an interrupted upload resumes, writing nothing twice, and commits the sha256 of the bytes', async () => {
      await putBare(diskBytes);
      const bare = await resolveBare();
      const path = join(sinks, 'bare-resumed.raw');
      const resume = await interruptedUpload(bare, path);
      const writer = await writerAt(path, resume.diskOffset);
      const uploaded = await transferImage({ source: bare, writer, resume });
      assert.ok(
        writer.written.every((offset) => offset >= resume.diskOffset),
        'nothing below the resume point rewritten',
      );
      assert.equal(uploaded.sourceBytesRead, diskBytes.length, 'the object was read whole, from its start');
      assert.deepEqual(uploaded.checksum, {
        algorithm: 'sha256',
        hex: createHash('sha256').update(diskBytes).digest('hex'),
      });
      assert.ok((await readFile(path)).equals(diskBytes));
    });

    it('a retry fails ChecksumMismatch when the key now holds another object (If-Match on its ETag)', async () => {
      await putBare(diskBytes);
      const bare = await resolveBare();
      const path = join(sinks, 'bare-replaced.raw');
      const { writer, resume } = await retryAfterReplacing(bare, path);
      await rejectsChecksumMismatch(
        transferImage({ source: bare, writer, resume }),
        /changed during the release \(it is no longer the object with ETag "[0-9a-f]{32}"\)/,
      );
      await writer.close(); // the read failed before anything was written: nothing to abort
    });

    it('a retry fails ChecksumMismatch when the re-read prefix is not what was uploaded (the heartbeat digest)', async () => {
      await putBare(diskBytes);
      // Without the ETag nothing pins the object: the prefix digest is what catches the change.
      const { etag: _etag, ...bare } = await resolveBare();
      const path = join(sinks, 'bare-prefix.raw');
      const { writer, resume } = await retryAfterReplacing(bare, path);
      await rejectsChecksumMismatch(
        transferImage({ source: bare, writer, resume }),
        /re-read to resume the upload\) now have the sha256 [0-9a-f]{64}, but the bytes uploaded before had/,
      );
      assert.ok(writer.aborted, 'the partial upload is removed');
    });
  });
});
