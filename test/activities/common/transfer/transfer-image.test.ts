import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFile, stat, truncate } from 'node:fs/promises';
import { join } from 'node:path';
import { ApplicationFailure } from '@temporalio/common';
import {
  transferImage,
  type TransferProgress,
} from '../../../../activities/common/transfer/transfer-image.js';
import {
  startBuildServer,
  type BuildServer,
  type PublishBuildOptions,
} from '../../../../infra/devstack/build-service.js';
import { publishedSource } from '../../../support/build-sources.js';
import { tempDir } from '../../../support/stack.js';
import { FileDiskWriter, writeTestDisk, type FileDiskWriterOptions } from './file-disk-writer.js';

const BLOCK = 64 * 1024;
const BLOCKS = 64; // a 4 MiB disk
const DATA_EVERY = 8; // one block in eight holds data, the rest are zeros

const root = tempDir('transfer-builds');
const sinks = tempDir('transfer-disks');
const disk = join(tempDir('transfer-disk'), 'disk.raw');
let diskBytes: Buffer;
let dataBlocks: Set<number>;
let server: BuildServer;
let count = 0;

before(async () => {
  dataBlocks = await writeTestDisk(disk, { blocks: BLOCKS, blockSize: BLOCK, dataEvery: DATA_EVERY });
  diskBytes = await readFile(disk);
  server = await startBuildServer({ root });
});
after(() => server.stop());

/** Publishes the test disk in a directory of its own and resolves it as the download step would. */
async function published(options: Partial<PublishBuildOptions> = {}) {
  const name = `dir${++count}`;
  return (await publishedSource(join(root, name), `${server.url}${name}/`, { disk, ...options })).source;
}

function sink(options: Partial<FileDiskWriterOptions> = {}, path = join(sinks, `disk${++count}.raw`)) {
  return FileDiskWriter.open(path, {
    blockSize: BLOCK,
    maxConcurrentWrites: 4,
    zeroBlocksMayBeSkipped: true,
    ...options,
  });
}

const dataBytes = () => dataBlocks.size * BLOCK;

describe('image transfer', () => {
  for (const compression of ['none', 'xz', 'gz'] as const) {
    it(`writes a byte-identical disk from a ${compression === 'none' ? 'raw' : compression} build, skipping zero blocks`, async () => {
      const source = await published({ compression });
      const writer = await sink();
      const uploaded = await transferImage({ source, writer });
      assert.equal(uploaded.sizeBytes, diskBytes.length);
      assert.equal(uploaded.bytesWritten, dataBytes(), 'only the data blocks were sent');
      assert.deepEqual(writer.committed, { sizeBytes: diskBytes.length, bytesWritten: dataBytes() });
      assert.ok((await readFile(writer.path)).equals(diskBytes), 'the disk reads back identical');
    });
  }

  it("takes a kiwi .vhdfixed.xz apart: the disk is written, the footer checked and left off", async () => {
    const source = await published({ format: 'vhdfixed' });
    assert.match(source.fileName, /\.vhdfixed\.xz$/);
    assert.equal(source.format, 'vhdfixed');
    const writer = await sink();
    const uploaded = await transferImage({ source, writer });
    assert.equal(uploaded.sizeBytes, diskBytes.length, 'the 4 MiB disk, without the 512-byte footer');
    assert.equal(uploaded.bytesWritten, dataBytes());
    assert.ok((await readFile(writer.path)).equals(diskBytes));
  });

  it('refuses a .vhdfixed.xz whose footer is broken, naming the file and the field', async () => {
    const source = await published({ format: 'vhdfixed', corruptFooter: true });
    const failure = await transferImage({ source, writer: await sink() }).then(
      () => assert.fail('accepted'),
      (e: unknown) => e as ApplicationFailure,
    );
    assert.equal(failure.type, 'InvalidImage');
    assert.equal(failure.nonRetryable, true);
    assert.match(failure.message, /^img\.x86_64-1\.0-Build1\.vhdfixed\.xz is no fixed VHD: invalid VHD footer: checksum is 0x[0-9a-f]{8}, the bytes sum to 0x[0-9a-f]{8}$/);
  });

  it('writes every block where the target cannot skip zeros', async () => {
    const source = await published();
    const writer = await sink({ zeroBlocksMayBeSkipped: false });
    const uploaded = await transferImage({ source, writer });
    assert.equal(uploaded.bytesWritten, diskBytes.length);
    assert.equal(writer.written.length, BLOCKS);
    assert.ok((await readFile(writer.path)).equals(diskBytes));
  });

  it('leaves skipped blocks as holes: the sparse disk takes little space but reads identical', async () => {
    const source = await published({ compression: 'xz' });
    const writer = await sink();
    await transferImage({ source, writer });
    const info = await stat(writer.path);
    assert.ok(
      info.blocks * 512 < diskBytes.length / 2,
      `${info.blocks * 512} bytes allocated for a ${diskBytes.length}-byte disk`,
    );
    assert.ok((await readFile(writer.path)).equals(diskBytes));
  });

  it('aborts the writer and fails with ChecksumMismatch naming both sums, the file and the algorithm', async () => {
    const source = await published({ corruptChecksum: true, compression: 'gz' });
    const writer = await sink();
    const error = await transferImage({ source, writer }).then(
      () => assert.fail('a corrupt checksum must not pass'),
      (e: unknown) => e,
    );
    assert.ok(error instanceof ApplicationFailure);
    assert.equal(error.type, 'ChecksumMismatch');
    assert.equal(error.nonRetryable, true);
    const actual = (error.details?.[0] as { actual: string }).actual;
    assert.notEqual(actual, source.checksum.hex);
    for (const part of [actual, source.checksum.hex, source.fileName, 'sha256'])
      assert.ok(error.message.includes(part), `message names ${part}`);
    assert.equal(writer.aborted, true);
    assert.equal(writer.committed, undefined);
  });

  it('verifies sha512 sources', async () => {
    const source = await published({ checksum: 'sha512' });
    const writer = await sink();
    await transferImage({ source, writer });
    assert.ok((await readFile(writer.path)).equals(diskBytes));
  });

  it('keeps at most maxConcurrentWrites blocks in flight while writes finish out of order', async () => {
    const source = await published({ compression: 'gz' });
    const writer = await sink({ maxConcurrentWrites: 3, zeroBlocksMayBeSkipped: false, maxWriteDelayMs: 8 });
    const reported: TransferProgress[] = [];
    await transferImage({
      source,
      writer,
      progressIntervalMs: 0,
      onProgress: (p) => {
        // A reported resume point must have every block below it written.
        const below = [...Array(p.resume.diskOffset / BLOCK).keys()].map((b) => b * BLOCK);
        assert.ok(
          below.every((o) => writer.written.includes(o)),
          `blocks below ${p.resume.diskOffset} written`,
        );
        reported.push(p);
      },
    });
    assert.equal(writer.peakInFlight, 3);
    const completionOrder = writer.written;
    assert.notDeepEqual(
      completionOrder,
      [...completionOrder].sort((a, b) => a - b),
      'writes finished out of order',
    );
    assert.ok(reported.length > 10);
    assert.equal(reported.at(-1)!.resume.diskOffset, diskBytes.length);
    assert.ok((await readFile(writer.path)).equals(diskBytes));
  });

  it('reports progress at most once per interval, and once at the end', async () => {
    const source = await published();
    const reported: TransferProgress[] = [];
    await transferImage({
      source,
      writer: await sink(),
      progressIntervalMs: 3_600_000,
      onProgress: (p) => reported.push(p),
    });
    assert.equal(reported.length, 1);
    assert.deepEqual(reported[0], {
      sourceBytesRead: diskBytes.length,
      sourceBytesTotal: diskBytes.length,
      diskBytes: diskBytes.length,
      bytesWritten: dataBytes(),
      resume: {
        sourceOffset: 0,
        diskOffset: diskBytes.length,
        prefixChecksum: createHash('sha256').update(diskBytes).digest('hex'),
        bytesWritten: dataBytes(),
      },
    });
  });

  it('says what xz says when the compressed image is corrupt', async () => {
    const source = await published({ compression: 'xz' });
    await truncate(join(root, `dir${count}`, source.fileName), 2000);
    const writer = await sink();
    await assert.rejects(
      transferImage({ source: { ...source, sizeBytes: 2000 }, writer }),
      /xz could not decompress the image .*(Unexpected end of input|Compressed data is corrupt)/,
    );
    assert.equal(writer.committed, undefined);
  });
});
