// The Azure upload step against Azurite: the fixed VHD Azure takes (disk, zeros to the MiB,
// footer) in a page blob, written sparsely, found again by its run token, resumed in place,
// removed on abort, and Azure's refusals classified.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { BlobServiceClient, StorageSharedKeyCredential, type ContainerClient } from '@azure/storage-blob';
import { ApplicationFailure } from '@temporalio/common';
import { startAzurite, type Azurite } from '../../../infra/devstack/azurite.js';
import {
  transferImage,
  type TransferResumeState,
} from '../../../activities/common/transfer/transfer-image.js';
import {
  DEFAULT_MAX_WRITES,
  openPageBlobWriter,
  RELEASE_ID_KEY,
  RELEASE_TOKEN_KEY,
  type PageBlobTarget,
} from '../../../activities/azure/page-blob-writer.js';
import { parseVhdFooter } from '../../../activities/common/transfer/vhd-footer.js';
import type {
  DiskWriter,
  OpenDiskWriterInput,
  ReleaseRef,
  ResolvedImageSource,
} from '../../../activities/provider.js';
import { tempDir } from '../../support/stack.js';

const KiB = 1024;
const MiB = 1024 ** 2;
const CONTAINER = 'imagecast-images';
const work = tempDir('azure-page-blob');

/**
 * 4 MiB blocks (the writer's): data, two zero blocks, one with a 1 MiB zero gap (skipped) and
 * a 4 KiB one (sent), data, zero, then a 3 MiB + 100 byte tail (padded to whole pages).
 * 27 MiB + 100 bytes: the VHD is 28 MiB plus its footer.
 */
function testDisk(): Buffer {
  const zero = (n: number) => Buffer.alloc(n);
  const gappy = Buffer.concat([
    randomBytes(MiB),
    zero(MiB),
    randomBytes(MiB),
    zero(4 * KiB),
    randomBytes(MiB - 4 * KiB),
  ]);
  return Buffer.concat([
    randomBytes(4 * MiB),
    zero(8 * MiB),
    gappy,
    randomBytes(4 * MiB),
    zero(4 * MiB),
    randomBytes(3 * MiB + 100),
  ]);
}
/** The page ranges (end exclusive) the disk above must leave in the blob, footer included. */
const EXPECTED_RANGES: Array<[number, number]> = [
  [0, 4 * MiB],
  [12 * MiB, 13 * MiB],
  [14 * MiB, 20 * MiB], // the 4 KiB gap was sent, the next data block follows at once
  [24 * MiB, 27 * MiB + 512],
  [28 * MiB, 28 * MiB + 512], // the footer
];
const EXPECTED_BYTES_WRITTEN = EXPECTED_RANGES.reduce((sum, [start, end]) => sum + end - start, 0);

function sha256(data: Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

describe('azure upload: a sparse, resumable page-blob VHD', () => {
  let azurite: Azurite;
  let service: BlobServiceClient;
  let container: ContainerClient;
  let disk: Buffer;
  let sources: Record<'none' | 'xz', ResolvedImageSource>;

  before(async () => {
    azurite = await startAzurite({ logFile: join(work, 'azurite.log') });
    service = new BlobServiceClient(
      azurite.blobEndpoint,
      new StorageSharedKeyCredential(azurite.accountName, azurite.accountKey),
    );
    container = service.getContainerClient(CONTAINER);
    await container.create();
    disk = testDisk();
    const raw = join(work, 'disk.raw');
    writeFileSync(raw, disk);
    execFileSync('xz', ['-1', '-T1', '-k', raw]);
    const source = (path: string, compression: 'none' | 'xz'): ResolvedImageSource => ({
      url: pathToFileURL(path).href,
      fileName: path.split('/').pop()!,
      compression,
      checksum: { algorithm: 'sha256', hex: sha256(readFileSync(path)) },
    });
    sources = { none: source(raw, 'none'), xz: source(`${raw}.xz`, 'xz') };
  });
  after(async () => {
    await azurite?.stop();
  });

  const newRelease = (): ReleaseRef => ({
    releaseId: 'azure-upload-test',
    releaseToken: randomUUID(),
    cloud: 'azure',
    account: 'test-azure',
  });
  const target = (blobName: string, forceReplace = false): PageBlobTarget => ({ blobName, forceReplace });
  const writerInput = (
    release: ReleaseRef,
    source: ResolvedImageSource,
    more: Partial<OpenDiskWriterInput> = {},
  ) => ({
    release,
    region: 'westeurope',
    checksum: source.checksum,
    resumeFromOffset: 0,
    ...(source.compression === 'none' && { diskSizeBytes: disk.length }),
    ...more,
  });
  const blobOf = (name: string) => container.getPageBlobClient(name);

  /** The blob is the disk, zeros to the next MiB, and a valid footer of that size. */
  const assertVhd = async (name: string) => {
    const content = await blobOf(name).downloadToBuffer();
    const virtualSize = 28 * MiB;
    assert.equal(content.length, virtualSize + 512, 'padded to the MiB, plus the footer');
    assert.ok(content.subarray(0, disk.length).equals(disk), 'the disk, byte for byte');
    assert.ok(
      content.subarray(disk.length, virtualSize).every((b) => b === 0),
      'zeros up to the MiB',
    );
    const footer = parseVhdFooter(content.subarray(virtualSize), virtualSize);
    assert.equal(footer.diskType, 2);
  };
  /**
   * The ranges that hold written pages, touching ones joined. listPageRanges gives inclusive ends; the older
   * getPageRanges reports `count` as end − start, one short of the real length.
   */
  const writtenRanges = async (name: string) => {
    const ranges: Array<[number, number]> = [];
    for await (const page of blobOf(name).listPageRanges().byPage()) {
      for (const r of page.pageRange ?? []) {
        // Azurite lists pages written by separate requests as separate ranges even when they touch.
        const last = ranges[ranges.length - 1];
        if (last && last[1] === r.start) last[1] = r.end + 1;
        else ranges.push([r.start, r.end + 1]);
      }
    }
    return ranges;
  };
  const exists = async (name: string) => blobOf(name).exists();

  it('turns a raw and an xz source, through the transfer, into a fixed VHD; zero pages are never sent', async () => {
    for (const compression of ['none', 'xz'] as const) {
      const release = newRelease();
      const name = `sles-15-${compression}.vhd`;
      // The xz upload also runs with fewer writes in flight than the default.
      const writes = compression === 'xz' ? { maxConcurrentWrites: 2 } : {};
      const writer = await openPageBlobWriter(
        container,
        writerInput(release, sources[compression]),
        target(name),
        writes,
      );
      assert.equal(writer.maxConcurrentWrites, compression === 'xz' ? 2 : DEFAULT_MAX_WRITES);
      assert.equal(writer.zeroBlocksMayBeSkipped, true, 'a page blob reads unwritten pages as zeros');
      assert.equal(writer.blockSize, 4 * MiB, "Put Page's limit");
      const uploaded = await transferImage({ source: sources[compression], writer });

      assert.equal(uploaded.diskId, `${azurite.blobEndpoint}/${CONTAINER}/${name}`);
      assert.equal(uploaded.sizeBytes, disk.length, 'the raw size, before padding');
      await assertVhd(name);
      assert.deepEqual(
        await writtenRanges(name),
        EXPECTED_RANGES,
        `${compression}: only the data pages and the footer`,
      );
      assert.equal(uploaded.bytesWritten, EXPECTED_BYTES_WRITTEN, 'the bytes sent');
      const { metadata } = await blobOf(name).getProperties();
      assert.equal(metadata?.[RELEASE_TOKEN_KEY], release.releaseToken);
      assert.equal(metadata?.[RELEASE_ID_KEY], release.releaseId);
    }
  });

  it('refuses a blob of that name made by anything else unless forceReplace, and finds its own after commit', async () => {
    const name = 'taken.vhd';
    await blobOf(name).create(MiB, { metadata: { [RELEASE_TOKEN_KEY]: 'another-run' } });
    const release = newRelease();
    await assert.rejects(
      openPageBlobWriter(container, writerInput(release, sources.none), target(name)),
      (error: unknown) => {
        assert.ok(error instanceof ApplicationFailure && error.nonRetryable);
        assert.equal(error.type, 'CloudInvalidRequest');
        assert.match(error.message, new RegExp(`${CONTAINER}/${name} already exists .*force_replace_image`));
        return true;
      },
    );
    const writer = await openPageBlobWriter(
      container,
      writerInput(release, sources.none),
      target(name, true),
    );
    const first = await transferImage({ source: sources.none, writer });
    await assertVhd(name);

    // The activity retried after commit: the blob is found by its token, nothing is written.
    const before = await blobOf(name).getProperties();
    const again = await openPageBlobWriter(container, writerInput(release, sources.none), target(name));
    assert.deepEqual(await transferImage({ source: sources.none, writer: again }), first);
    const after = await blobOf(name).getProperties();
    assert.equal(after.etag, before.etag, 'the blob was not touched');
  });

  it('continues in the blob it left after the attempt died mid-upload, and starts over when it cannot', async () => {
    const release = newRelease();
    const name = 'resumed.vhd';
    const source = sources.xz;
    const first = await openPageBlobWriter(container, writerInput(release, source), target(name));
    const block = first.blockSize;
    // Blocks 0-3 written, heartbeat at 4 blocks; then block 4 too before it died.
    await Promise.all(
      [0, 3].map((i) => first.writeBlock(i * block, disk.subarray(i * block, (i + 1) * block))),
    );
    const checkpoint = first.checkpoint!(4 * block);
    assert.deepEqual(
      checkpoint,
      { diskOffset: 4 * block, sentBytes: 4 * MiB + 3 * MiB },
      'plain JSON: what was sent below',
    );
    await first.writeBlock(4 * block, disk.subarray(4 * block, 5 * block));

    const retry = await openPageBlobWriter(
      container,
      writerInput(release, source, { resumeFromOffset: 4 * block, checkpoint }),
      target(name),
    );
    assert.equal(retry.resumeOffset, 4 * block);
    const offsets: number[] = [];
    const recording: DiskWriter = {
      ...retry,
      writeBlock: (at, b) => (offsets.push(at), retry.writeBlock(at, b)),
    };
    const resume: TransferResumeState = {
      sourceOffset: 0,
      diskOffset: 4 * block,
      bytesWritten: 4 * MiB + 4 * MiB,
    };
    const uploaded = await transferImage({ source, writer: recording, resume });
    assert.ok(
      offsets.length > 0 && offsets.every((at) => at >= 4 * block),
      `only blocks past the checkpoint: ${offsets.join(', ')}`,
    );
    await assertVhd(name);
    assert.deepEqual(await writtenRanges(name), EXPECTED_RANGES);
    assert.equal(uploaded.bytesWritten, EXPECTED_BYTES_WRITTEN, 'each page counted once over both attempts');

    // The blob is gone, or holds another source: start over at 0.
    await blobOf(name).delete();
    const gone = await openPageBlobWriter(
      container,
      writerInput(release, source, { resumeFromOffset: 4 * block, checkpoint }),
      target(name),
    );
    assert.equal(gone.resumeOffset, 0);
    const other = { ...source, checksum: { algorithm: 'sha256' as const, hex: 'ab'.repeat(32) } };
    const changed = await openPageBlobWriter(
      container,
      writerInput(release, other, { resumeFromOffset: 4 * block }),
      target(name),
    );
    assert.equal(changed.resumeOffset, 0);
    await changed.abort();
  });

  it("removes its blob on abort, and leaves one that is no longer this run's", async () => {
    const release = newRelease();
    const aborted = await openPageBlobWriter(
      container,
      writerInput(release, sources.none),
      target('aborted.vhd'),
    );
    await aborted.writeBlock(0, disk.subarray(0, aborted.blockSize));
    await aborted.abort();
    assert.equal(await exists('aborted.vhd'), false);
    await aborted.abort();

    const replaced = await openPageBlobWriter(
      container,
      writerInput(release, sources.none),
      target('replaced.vhd'),
    );
    // Another release replaced it (force_replace_image) before this one gave up.
    await openPageBlobWriter(
      container,
      writerInput(newRelease(), sources.none),
      target('replaced.vhd', true),
    );
    await replaced.abort();
    assert.equal(await exists('replaced.vhd'), true, "the other run's blob stays");
  });

  it('refuses a disk larger than the blob was made for (a raw source that grew)', async () => {
    const release = newRelease();
    const writer = await openPageBlobWriter(
      container,
      writerInput(release, sources.none, { diskSizeBytes: 4 * MiB }),
      target('too-small.vhd'),
    );
    await assert.rejects(transferImage({ source: sources.none, writer }), (error: unknown) => {
      assert.ok(error instanceof ApplicationFailure && error.nonRetryable);
      assert.match(error.message, /too-small\.vhd: the disk is larger than the 4194304 bytes/);
      return true;
    });
    await writer.abort();
    assert.equal(await exists('too-small.vhd'), false);
  });

  it('says which container is missing, and that the account may not write, without retrying', async () => {
    const missing = service.getContainerClient('no-such-container');
    await assert.rejects(
      openPageBlobWriter(missing, writerInput(newRelease(), sources.none), target('x.vhd')),
      (error: unknown) => {
        assert.ok(error instanceof ApplicationFailure && error.nonRetryable);
        assert.equal(error.type, 'CloudInvalidRequest');
        assert.match(
          error.message,
          /ContainerNotFound.*create the container "no-such-container" in storage account devstoreaccount1/,
        );
        return true;
      },
    );
    const wrongKey = new BlobServiceClient(
      azurite.blobEndpoint,
      new StorageSharedKeyCredential(azurite.accountName, randomBytes(64).toString('base64')),
    ).getContainerClient(CONTAINER);
    await assert.rejects(
      openPageBlobWriter(wrongKey, writerInput(newRelease(), sources.none), target('y.vhd')),
      (error: unknown) => {
        assert.ok(error instanceof ApplicationFailure && error.nonRetryable);
        assert.equal(error.type, 'CloudPermissionDenied');
        assert.match(error.message, /Storage Blob Data Contributor/);
        return true;
      },
    );
  });
});
