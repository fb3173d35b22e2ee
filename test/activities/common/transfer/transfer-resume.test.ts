import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { ApplicationFailure } from '@temporalio/common';
import { createSHA256 } from 'hash-wasm';
import {
  transferImage,
  type TransferResumeState,
} from '../../../../activities/common/transfer/transfer-image.js';
import type { ResolvedImageSource } from '../../../../activities/provider.js';
import { startBuildServer, type BuildServer } from '../../../../infra/devstack/build-service.js';
import { publishedSource } from '../../../support/build-sources.js';
import { tempDir } from '../../../support/stack.js';
import { FileDiskWriter, writeTestDisk } from './file-disk-writer.js';

const BLOCK = 64 * 1024;
const BLOCKS = 64;

const root = tempDir('resume-builds');
const sinks = tempDir('resume-disks');
const disk = join(tempDir('resume-disk'), 'disk.raw');
let diskBytes: Buffer;
let server: BuildServer;
let count = 0;

before(async () => {
  await writeTestDisk(disk, { blocks: BLOCKS, blockSize: BLOCK, dataEvery: 2 });
  diskBytes = await readFile(disk);
  server = await startBuildServer({ root });
});
after(() => server.stop());

async function published(compression: 'none' | 'xz' | 'gz', local = false): Promise<ResolvedImageSource> {
  const name = `dir${++count}`;
  const downloadUrl = local ? pathToFileURL(join(root, name)).href : `${server.url}${name}/`;
  return (await publishedSource(join(root, name), downloadUrl, { disk, compression })).source;
}

function sha256(bytes: Buffer): string {
  return createHash('sha256').update(bytes).digest('hex');
}

function sink(path: string, resumeOffset = 0) {
  return FileDiskWriter.open(path, {
    blockSize: BLOCK,
    maxConcurrentWrites: 4,
    zeroBlocksMayBeSkipped: true,
    resumeOffset,
    maxWriteDelayMs: 3,
  });
}

/**
 * A first attempt that stops (as a worker shutting down does) once half the disk is written;
 * returns the last resume state it reported, what a heartbeat would have carried.
 */
async function interruptedAttempt(source: ResolvedImageSource, path: string) {
  const writer = await sink(path);
  const controller = new AbortController();
  let resume: TransferResumeState | undefined;
  const error = await transferImage({
    source,
    writer,
    signal: controller.signal,
    progressIntervalMs: 0,
    onProgress: (p) => {
      resume = p.resume;
      if (p.resume.diskOffset >= diskBytes.length / 2) controller.abort(new Error('worker shutting down'));
    },
  }).then(
    () => assert.fail('the first attempt was to be interrupted'),
    (e: unknown) => e as Error,
  );
  assert.equal(error.message, 'worker shutting down');
  assert.equal(writer.inFlight, 0, 'in-flight writes finished before the error surfaced');
  assert.equal(writer.aborted, false, 'the partial upload is left for the caller to keep or discard');
  assert.equal(writer.committed, undefined);
  await writer.close();
  assert.ok(resume && resume.diskOffset >= diskBytes.length / 2 && resume.diskOffset < diskBytes.length);
  assert.equal(resume.diskOffset % BLOCK, 0);
  return resume;
}

describe('image transfer resume', () => {
  it('resumes a raw download by re-reading the uploaded part (checked against its digest), writing nothing below the resume point', async () => {
    const source = await published('none');
    const path = join(sinks, `disk${++count}.raw`);
    const resume = await interruptedAttempt(source, path);
    assert.equal(resume.sourceOffset, 0, 'the retry reads the file from its start');
    assert.equal(resume.prefixChecksum, sha256(diskBytes.subarray(0, resume.diskOffset)));

    const seen = server.requests.length;
    const writer = await sink(path, resume.diskOffset);
    const uploaded = await transferImage({ source, writer, resume });
    const file = new URL(source.url).pathname;
    assert.deepEqual(
      server.requests.slice(seen).filter((r) => r.path === file),
      [{ path: file, range: undefined }],
    );
    assert.ok(
      writer.written.every((offset) => offset >= resume.diskOffset),
      'nothing below the resume point rewritten',
    );
    assert.equal(uploaded.sizeBytes, diskBytes.length);
    assert.ok((await readFile(path)).equals(diskBytes), 'the checksum passed and the disk is identical');
    // Every other block holds data: the total counts both attempts, each block once.
    assert.ok(resume.bytesWritten! > 0, 'the heartbeat carries what the first attempt wrote');
    assert.equal(uploaded.bytesWritten, diskBytes.length / 2);
  });

  it('fails the transfer and removes the partial upload when the re-read part differs from what was uploaded', async () => {
    const source = await published('none');
    const path = join(sinks, `disk${++count}.raw`);
    const resume = await interruptedAttempt(source, path);
    // As if the earlier attempt had uploaded other bytes (the file was replaced since).
    const uploadedBefore = sha256(Buffer.alloc(resume.diskOffset, 1));
    const writer = await sink(path, resume.diskOffset);
    await assert.rejects(
      transferImage({ source, writer, resume: { ...resume, prefixChecksum: uploadedBefore } }),
      (error: ApplicationFailure) =>
        error.type === 'ChecksumMismatch' &&
        error.nonRetryable &&
        /changed at its source during the release/.test(error.message),
    );
    assert.equal(writer.aborted, true);
    assert.equal(writer.committed, undefined);
    assert.ok(writer.written.every((offset) => offset >= resume.diskOffset));
  });

  it('checks the re-read part against the hash state an earlier version saved in its heartbeat', async () => {
    const source = await published('none');
    const savedBy = async (bytes: Buffer) => {
      const hasher = await createSHA256();
      hasher.init();
      hasher.update(bytes);
      return Buffer.from(hasher.save()).toString('base64');
    };
    const legacy = async (path: string, state: (diskOffset: number) => Promise<string>) => {
      const { diskOffset, bytesWritten } = await interruptedAttempt(source, path);
      const resume: TransferResumeState = {
        sourceOffset: diskOffset,
        diskOffset,
        hashState: await state(diskOffset),
        bytesWritten,
      };
      return { writer: await sink(path, diskOffset), resume };
    };

    const path = join(sinks, `disk${++count}.raw`);
    const same = await legacy(path, (at) => savedBy(diskBytes.subarray(0, at)));
    await transferImage({ source, ...same });
    assert.ok(same.writer.written.every((offset) => offset >= same.resume.diskOffset));
    assert.ok((await readFile(path)).equals(diskBytes));

    const other = await legacy(join(sinks, `disk${++count}.raw`), (at) => savedBy(Buffer.alloc(at, 1)));
    await assert.rejects(
      transferImage({ source, ...other }),
      (error: ApplicationFailure) => error.type === 'ChecksumMismatch',
    );
    assert.equal(other.writer.aborted, true);
  });

  it('resumes a raw file:// source, writing nothing below the resume point', async () => {
    const source = await published('none', true);
    const path = join(sinks, `disk${++count}.raw`);
    const resume = await interruptedAttempt(source, path);
    const writer = await sink(path, resume.diskOffset);
    await transferImage({ source, writer, resume });
    assert.ok(writer.written.every((offset) => offset >= resume.diskOffset));
    assert.ok((await readFile(path)).equals(diskBytes));
  });

  for (const compression of ['xz', 'gz'] as const) {
    it(`restarts a ${compression} download from the start but rewrites no block below the resume point`, async () => {
      const source = await published(compression);
      const path = join(sinks, `disk${++count}.raw`);
      const resume = await interruptedAttempt(source, path);
      assert.equal(resume.sourceOffset, 0);
      assert.equal(
        resume.prefixChecksum,
        undefined,
        'the compressed file has no prefix matching the disk offset',
      );

      const seen = server.requests.length;
      const writer = await sink(path, resume.diskOffset);
      await transferImage({ source, writer, resume });
      const file = new URL(source.url).pathname;
      assert.deepEqual(
        server.requests.slice(seen).filter((r) => r.path === file),
        [{ path: file, range: undefined }],
      );
      assert.ok(writer.written.length > 0 && writer.written.every((offset) => offset >= resume.diskOffset));
      assert.ok((await readFile(path)).equals(diskBytes));
    });
  }

  it('starts over when the writer no longer holds the earlier partial upload', async () => {
    const source = await published('none');
    const path = join(sinks, `disk${++count}.raw`);
    const resume = await interruptedAttempt(source, path);
    const fresh = join(sinks, `disk${++count}.raw`);
    const writer = await sink(fresh, 0);
    await transferImage({ source, writer, resume });
    assert.ok(writer.written.includes(0), 'the first block is written again');
    assert.ok((await readFile(fresh)).equals(diskBytes));
  });

  it('kills the xz process when the transfer is aborted', async () => {
    const source = await published('xz');
    const path = join(sinks, `disk${++count}.raw`);
    await interruptedAttempt(source, path);
    const children = execFileSync('ps', ['--ppid', String(process.pid), '-o', 'comm='], { encoding: 'utf8' });
    assert.doesNotMatch(children, /^xz$/m);
  });
});
