// The GCE upload step against fake-gcs-server (behind our resume shim): the tarball GCE
// imports, checked with the real gzip and tar, its resumable body, and its clean-up.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { gzipSync } from 'node:zlib';
import { transferImage } from '../../../activities/common/transfer/transfer-image.js';
import {
  discardGcsUploads,
  deleteGcsObject,
  openGcsTarballWriter,
  partPrefix,
  RELEASE_TOKEN_KEY,
  type GcsTarballTarget,
} from '../../../activities/gce/gcs-tarball-writer.js';
import type { GceClients } from '../../../activities/gce/clients.js';
import type { DiskWriter, OpenDiskWriterInput, ReleaseRef, ResolvedImageSource } from '../../../activities/provider.js';
import { startGcsEmulator, TEST_GCE_ACCOUNT, type GcsEmulator } from '../../support/gcs-emulator.js';
import { tempDir } from '../../support/stack.js';

const MiB = 1024 ** 2;
const GiB = 1024 ** 3;
const BUCKET = 'imagecast-test-images';
const work = tempDir('gcs-tarball');

/** 16 MiB pieces (two of the writer's blocks): some half random, some zeros, a short last one. */
function testDisk(blocks: Array<'data' | 'zero'>, tail = 3 * MiB + 512): Buffer {
  const parts = blocks.map((kind) =>
    kind === 'zero' ? Buffer.alloc(16 * MiB) : Buffer.concat([randomBytes(8 * MiB), Buffer.alloc(8 * MiB, 7)]),
  );
  return Buffer.concat([...parts, randomBytes(tail)]);
}

function sha256(data: Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

/** sha256 of the disk followed by zeros up to the next GiB: what disk.raw must hash to. */
function paddedSha256(disk: Buffer): string {
  const hash = createHash('sha256').update(disk);
  const zeros = Buffer.alloc(64 * MiB);
  const padded = Math.ceil(disk.length / GiB) * GiB;
  for (let left = padded - disk.length; left > 0; left -= zeros.length) hash.update(zeros.subarray(0, Math.min(left, zeros.length)));
  return hash.digest('hex');
}

describe('gce upload: a streaming, resumable gs://<bucket>/<name>.tar.gz', () => {
  let gcs: GcsEmulator;
  let c: GceClients;

  before(async () => {
    gcs = await startGcsEmulator('gcs-tarball');
    await gcs.createBucket(BUCKET);
    c = await gcs.clients();
  });
  after(async () => {
    await gcs?.stop();
  });

  const newRelease = (): ReleaseRef => ({
    releaseId: 'gce-upload-test',
    releaseToken: randomUUID(),
    cloud: 'gce',
    account: TEST_GCE_ACCOUNT,
  });
  const target = (objectName: string, forceReplace = false): GcsTarballTarget => ({ bucket: BUCKET, objectName, forceReplace });
  const writerInput = (release: ReleaseRef, disk: Buffer, more: Partial<OpenDiskWriterInput> = {}): OpenDiskWriterInput => ({
    release,
    region: 'global',
    checksum: { algorithm: 'sha256', hex: sha256(disk) },
    resumeFromOffset: 0,
    ...more,
  });
  const objectsUnder = async (prefix: string) => (await c.storage.bucket(BUCKET).getFiles({ prefix }))[0].map((f) => f.name);

  /** Downloads the object and checks it with gzip and tar; returns the listing and disk.raw's sha256. */
  const inspect = (objectName: string) => {
    const path = join(work, `${randomUUID()}.tar.gz`);
    execFileSync('curl', ['-sf', '-o', path, `${gcs.upstream}/download/storage/v1/b/${BUCKET}/o/${encodeURIComponent(objectName)}?alt=media`]);
    execFileSync('gzip', ['-t', path]);
    const listing = execFileSync('tar', ['-tvzf', path], { encoding: 'utf8' }).trim();
    const digest = execFileSync('sh', ['-c', `tar -xzOf "${path}" disk.raw | sha256sum`], { encoding: 'utf8' }).split(' ')[0];
    return { listing, digest };
  };

  const upload = async (writer: DiskWriter, disk: Buffer, from = 0) => {
    // Every remaining block at once, in reverse: the writer orders them itself.
    const blocks: Array<[number, Buffer]> = [];
    for (let at = from; at < disk.length; at += writer.blockSize) blocks.push([at, disk.subarray(at, at + writer.blockSize)]);
    for (let i = 0; i < blocks.length; i += writer.maxConcurrentWrites) {
      await Promise.all(blocks.slice(i, i + writer.maxConcurrentWrites).reverse().map(([at, b]) => writer.writeBlock(at, b)));
    }
  };

  it('turns a raw and a gzip source, through the transfer, into a tar.gz GCE imports: one disk.raw padded to the GiB', async () => {
    const disk = testDisk(['data', 'zero', 'zero', 'data', 'zero']);
    const raw = join(work, 'disk.raw');
    writeFileSync(raw, disk);
    writeFileSync(`${raw}.gz`, gzipSync(disk, { level: 1 }));
    for (const compression of ['none', 'gz'] as const) {
      const release = newRelease();
      const objectName = `sles-15-${compression}.tar.gz`;
      const source: ResolvedImageSource = {
        url: pathToFileURL(compression === 'none' ? raw : `${raw}.gz`).href,
        fileName: compression === 'none' ? 'disk.raw' : 'disk.raw.gz',
        compression,
        checksum: { algorithm: 'sha256', hex: sha256(compression === 'none' ? disk : gzipSync(disk, { level: 1 })) },
      };
      // gzipSync is deterministic: the checksum above is of the file written.
      const writer = await openGcsTarballWriter(
        c,
        writerInput(release, disk, {
          checksum: source.checksum,
          ...(compression === 'none' && { diskSizeBytes: disk.length }),
        }),
        target(objectName),
      );
      assert.equal(writer.zeroBlocksMayBeSkipped, false, 'a tar holds every byte');
      const uploaded = await transferImage({ source, writer });

      assert.equal(uploaded.diskId, `gs://${BUCKET}/${objectName}`);
      assert.equal(uploaded.sizeBytes, disk.length, 'the raw size, before padding');
      const [metadata] = await c.storage.bucket(BUCKET).file(objectName).getMetadata();
      assert.equal(uploaded.bytesWritten, Number(metadata.size), 'the compressed bytes sent');
      assert.ok(uploaded.bytesWritten < disk.length * 0.5, `${uploaded.bytesWritten} bytes for a half-compressible disk`);
      assert.equal(metadata.metadata?.[RELEASE_TOKEN_KEY], release.releaseToken);
      assert.equal(metadata.metadata?.['imagecast-release-id'], release.releaseId);

      const { listing, digest } = inspect(objectName);
      assert.match(listing, /^-rw-r--r-- root\/root +1073741824 .* disk\.raw$/, 'exactly one member, 1 GiB');
      assert.equal(digest, paddedSha256(disk), 'disk.raw is the source, zero-padded');
      assert.deepEqual(await objectsUnder(partPrefix(release)), [], 'the parts are gone');
    }
  });

  it('refuses an object of that name made by anything else unless forceReplace, and finds its own after commit', async () => {
    const disk = testDisk([]);
    const objectName = 'taken.tar.gz';
    await c.storage.bucket(BUCKET).file(objectName).save('not ours');
    const release = newRelease();
    await assert.rejects(openGcsTarballWriter(c, writerInput(release, disk), target(objectName)), (error: Error) => {
      assert.match(error.message, new RegExp(`gs://${BUCKET}/${objectName} already exists`));
      return true;
    });
    const writer = await openGcsTarballWriter(c, writerInput(release, disk), target(objectName, true));
    await upload(writer, disk);
    const first = await writer.commit(disk.length, disk.length);
    assert.equal(inspect(objectName).digest, paddedSha256(disk), 'replaced');

    // The activity retried after commit: the object is found by its token, nothing is written.
    const again = await openGcsTarballWriter(c, writerInput(release, disk), target(objectName));
    await again.writeBlock(0, disk);
    assert.deepEqual(await again.commit(disk.length, disk.length), first);
    await deleteGcsObject(c, BUCKET, objectName);
    await deleteGcsObject(c, BUCKET, objectName);
    assert.equal((await c.storage.bucket(BUCKET).file(objectName).exists())[0], false);
  });

  it('fails the upload, not the worker process, when the session refuses a chunk', async () => {
    // The SDK's upload stream threw a refused chunk's error where no one could catch it: an
    // uncaught exception, which ends a worker process. The upload must fail (so the activity
    // fails and Temporal retries it) and nothing may escape.
    const uncaught: unknown[] = [];
    const hear = (error: unknown) => uncaught.push(error);
    process.on('uncaughtException', hear);
    try {
      // 24 MiB of random data deflates to more than a 16 MiB chunk: a PUT goes before commit.
      const disk = Buffer.concat([randomBytes(24 * MiB), Buffer.alloc(8 * MiB)]);
      const writer = await openGcsTarballWriter(c, writerInput(newRelease(), disk), target('refused.tar.gz'));
      // The session is cancelled under it (as when it expires): its next chunk is answered 404.
      const { sessionUri } = writer.checkpoint!(0) as { sessionUri: string };
      await c.storage.authClient.request({ url: sessionUri, method: 'DELETE', validateStatus: () => true });
      await assert.rejects(async () => {
        await upload(writer, disk);
        await writer.commit(disk.length, disk.length);
      }, /HTTP 404/);
      // A late error from an upload stream would surface in the next turns.
      await new Promise((resolve) => setTimeout(resolve, 2000));
      assert.deepEqual(uncaught, [], 'nothing escaped');
      await writer.abort();
    } finally {
      process.off('uncaughtException', hear);
    }
  });

  it('continues the same session from the last checkpoint after the attempt died mid-upload', async () => {
    const disk = testDisk(['data', 'zero', 'data', 'data', 'zero', 'data', 'zero']);
    const release = newRelease();
    const objectName = 'resumed.tar.gz';
    const first = await openGcsTarballWriter(c, writerInput(release, disk), target(objectName));
    const block = first.blockSize;
    await upload(first, disk.subarray(0, 3 * block));
    const checkpoint = first.checkpoint!(3 * block)!;
    assert.equal(checkpoint.diskOffset, 3 * block);
    assert.ok(JSON.parse(JSON.stringify(checkpoint)), 'plain JSON');
    // It went on past its last heartbeat before it died: the session holds more than the checkpoint says.
    await Promise.all([3, 4, 5].map((i) => first.writeBlock(i * block, disk.subarray(i * block, (i + 1) * block))));

    const queries = gcs.shim.statusQueries;
    const retry = await openGcsTarballWriter(
      c,
      writerInput(release, disk, { resumeFromOffset: 3 * block, checkpoint }),
      target(objectName),
    );
    assert.equal(retry.resumeOffset, 3 * block);
    assert.equal(gcs.shim.statusQueries, queries + 1, 'the session was asked what it holds');
    await upload(retry, disk, 3 * block);
    assert.equal(retry.checkpoint!(disk.length)?.sessionUri, checkpoint.sessionUri, 'the same session');
    await retry.commit(disk.length, disk.length);
    assert.equal(inspect(objectName).digest, paddedSha256(disk));
    assert.deepEqual(await objectsUnder(partPrefix(release)), [], 'one body, composed and removed');

    // A session that is gone, or a checkpoint from another zlib: start over.
    const gone = { ...checkpoint, sessionUri: `${gcs.endpoint}/upload/storage/v1/b/${BUCKET}/o?uploadType=resumable&upload_id=gone` };
    const other = { ...checkpoint, zlibVersion: '0.0.1' };
    for (const stale of [gone, other]) {
      const restarted = await openGcsTarballWriter(
        c,
        writerInput(newRelease(), disk, { resumeFromOffset: 3 * block, checkpoint: stale }),
        target(`restarted-${randomUUID()}.tar.gz`),
      );
      assert.equal(restarted.resumeOffset, 0);
      await restarted.abort();
    }
  });

  it('removes its parts on abort, and the saga removes every object carrying the run token', async () => {
    const disk = testDisk(['data', 'zero']);
    const release = newRelease();
    const aborted = await openGcsTarballWriter(c, writerInput(release, disk), target('aborted.tar.gz'));
    await upload(aborted, disk);
    await aborted.abort();
    assert.deepEqual(await objectsUnder(partPrefix(release)), []);

    const composed = await openGcsTarballWriter(c, writerInput(release, disk), target('discarded.tar.gz'));
    await upload(composed, disk);
    await composed.commit(disk.length, disk.length);
    const half = await openGcsTarballWriter(c, writerInput(release, disk), target('half.tar.gz'));
    await upload(half, disk);
    await (await openGcsTarballWriter(c, writerInput(release, disk), target('heads.tar.gz'))).abort();
    await c.storage.bucket(BUCKET).file(`${partPrefix(release)}stray.head`).save('x', {
      metadata: { metadata: { [RELEASE_TOKEN_KEY]: release.releaseToken } },
    });
    const bystander = newRelease();
    await c.storage.bucket(BUCKET).file('bystander.tar.gz').save('y', {
      metadata: { metadata: { [RELEASE_TOKEN_KEY]: bystander.releaseToken } },
    });

    await discardGcsUploads(c, BUCKET, release);
    const left = (await c.storage.bucket(BUCKET).getFiles())[0];
    assert.deepEqual(left.filter((f) => f.metadata.metadata?.[RELEASE_TOKEN_KEY] === release.releaseToken).map((f) => f.name), []);
    assert.ok(left.some((f) => f.name === 'bystander.tar.gz'), "another run's object stays");
    await discardGcsUploads(c, 'no-such-bucket', release);
  });
});
