import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { ApplicationFailure } from '@temporalio/common';
import { diskIdFor } from '../../../activities/local/index.js';
import {
  MiB,
  allocatedBytes,
  blocksOf,
  checksumOf,
  freshLocalCloud,
  isZero,
  releaseRef,
  testDisk,
  uploadDisk,
} from './local-cloud-fixtures.js';

describe('local upload', () => {
  it('writes blocks in any order, skips zero blocks, and commits the exact disk as a sparse file', async () => {
    const { cloud, dataDir } = freshLocalCloud('upload');
    const release = releaseRef();
    const disk = testDisk(16, [0, 5, 9]);
    const writer = await cloud.openDiskWriter({
      release,
      region: 'r1',
      checksum: checksumOf(disk),
      resumeFromOffset: 0,
    });
    assert.deepEqual(
      [writer.blockSize, writer.maxConcurrentWrites, writer.zeroBlocksMayBeSkipped, writer.resumeOffset],
      [MiB, 4, true, 0],
    );

    const data = blocksOf(disk)
      .filter((b) => !isZero(b.block))
      .reverse(); // tail first
    await Promise.all(data.map((b) => writer.writeBlock(b.offset, b.block)));
    const uploaded = await writer.commit(disk.length, 4 * MiB);

    const diskId = diskIdFor(release.releaseToken);
    assert.match(diskId, /^disk-[0-9a-f]{12}$/);
    assert.deepEqual(uploaded, {
      region: 'r1',
      diskId,
      sizeBytes: disk.length,
      bytesWritten: 4 * MiB,
      checksum: checksumOf(disk),
    });
    const raw = join(dataDir, 'acct', 'r1', 'disks', `${diskId}.raw`);
    assert.ok((await readFile(raw)).equals(disk), 'holes read back as zeros');
    assert.ok((await allocatedBytes(raw)) < disk.length / 2, 'the zero blocks take no space');
    const meta = JSON.parse(await readFile(join(dataDir, 'acct', 'r1', 'disks', `${diskId}.json`), 'utf8'));
    assert.equal(meta.releaseToken, release.releaseToken);
    assert.equal(meta.sizeBytes, disk.length);
    assert.deepEqual(await readdir(join(dataDir, 'acct', 'r1', 'staging')), [], 'nothing left in staging');
  });

  it('records the checksum the commit hands it, and a retry that re-read other bytes fails ChecksumMismatch', async () => {
    const { cloud } = freshLocalCloud('upload-computed');
    const release = releaseRef();
    const disk = testDisk(4, [0, 2]);
    const open = () =>
      cloud.openDiskWriter({
        release,
        region: 'r1',
        checksum: { algorithm: 'sha256', hex: '' },
        resumeFromOffset: 0,
      });
    const writer = await open();
    for (const b of blocksOf(disk)) await writer.writeBlock(b.offset, b.block);
    const uploaded = await writer.commit(disk.length, disk.length, checksumOf(disk));
    assert.deepEqual(
      uploaded.checksum,
      checksumOf(disk),
      'the computed checksum, not the empty one it was opened with',
    );
    // A retry whose activity died after the commit finds the disk; its own read gave the same digest.
    assert.deepEqual(
      (await (await open()).commit(disk.length, disk.length, checksumOf(disk))).checksum,
      checksumOf(disk),
    );
    const other = { algorithm: 'sha256' as const, hex: 'f'.repeat(64) };
    await assert.rejects(
      (await open()).commit(disk.length, disk.length, other),
      (error: ApplicationFailure) => {
        assert.equal(error.type, 'ChecksumMismatch');
        assert.match(
          error.message,
          /committed by an earlier attempt from bytes with the checksum sha256:[0-9a-f]{64}, but reading the source again gave sha256:f{64}/,
        );
        return true;
      },
    );
  });

  it('commits once: a second commit, or a retried upload of the same run, returns the same disk', async () => {
    const { cloud, dataDir } = freshLocalCloud('upload-again');
    const release = releaseRef();
    const disk = testDisk(4, [1]);
    const first = await uploadDisk(cloud, release, 'r1', disk);
    const meta = () => readFile(join(dataDir, 'acct', 'r1', 'disks', `${first.diskId}.json`), 'utf8');
    const committed = await meta();

    assert.deepEqual(await uploadDisk(cloud, release, 'r1', disk), first);
    assert.equal(await meta(), committed, 'the first commit stands');
    assert.deepEqual((await readdir(join(dataDir, 'acct', 'r1', 'disks'))).sort(), [
      `${first.diskId}.json`,
      `${first.diskId}.raw`,
    ]);
    assert.deepEqual(await readdir(join(dataDir, 'acct', 'r1', 'staging')), []);
  });

  it('resumes from the earlier attempt partial upload, even when its end was skipped zeros', async () => {
    const { cloud, dataDir } = freshLocalCloud('upload-resume');
    const release = releaseRef();
    const disk = testDisk(8, [0, 1, 5, 6]);
    const blocks = blocksOf(disk);
    const checksum = checksumOf(disk);

    // The first attempt wrote blocks 0-1, skipped 2-4 (zeros), and died: durable up to 5 MiB.
    const first = await cloud.openDiskWriter({ release, region: 'r1', checksum, resumeFromOffset: 0 });
    for (const b of blocks.slice(0, 2)) await first.writeBlock(b.offset, b.block);

    const second = await cloud.openDiskWriter({ release, region: 'r1', checksum, resumeFromOffset: 5 * MiB });
    assert.equal(second.resumeOffset, 5 * MiB);
    for (const b of blocks.slice(5).filter((b) => !isZero(b.block)))
      await second.writeBlock(b.offset, b.block);
    const uploaded = await second.commit(disk.length, 3 * MiB);
    assert.ok((await readFile(join(dataDir, 'acct', 'r1', 'disks', `${uploaded.diskId}.raw`))).equals(disk));
  });

  it('starts over when the partial upload is gone, or when asked to start from 0', async () => {
    const { cloud, dataDir } = freshLocalCloud('upload-restart');
    const release = releaseRef();
    const disk = testDisk(2, [1], 0);
    const checksum = checksumOf(disk);

    const nothingThere = await cloud.openDiskWriter({
      release,
      region: 'r1',
      checksum,
      resumeFromOffset: 3 * MiB,
    });
    assert.equal(nothingThere.resumeOffset, 0);

    // An earlier attempt left garbage in block 0; a fresh start must not keep it.
    await nothingThere.writeBlock(0, Buffer.alloc(MiB, 0xff));
    const fresh = await cloud.openDiskWriter({ release, region: 'r1', checksum, resumeFromOffset: 0 });
    await fresh.writeBlock(MiB, disk.subarray(MiB));
    const uploaded = await fresh.commit(disk.length, MiB);
    assert.ok((await readFile(join(dataDir, 'acct', 'r1', 'disks', `${uploaded.diskId}.raw`))).equals(disk));
  });

  it('aborts by removing the partial upload; a write after that asks for a restart', async () => {
    const { cloud, dataDir } = freshLocalCloud('upload-abort');
    const release = releaseRef();
    const disk = testDisk(2, [0]);
    const writer = await cloud.openDiskWriter({
      release,
      region: 'r1',
      checksum: checksumOf(disk),
      resumeFromOffset: 0,
    });
    await writer.writeBlock(0, disk.subarray(0, MiB));
    await writer.abort();
    await writer.abort(); // a repeat is harmless

    assert.deepEqual(await readdir(join(dataDir, 'acct', 'r1', 'staging')), []);
    assert.deepEqual(await readdir(join(dataDir, 'acct', 'r1', 'disks')), []);
    await assert.rejects(writer.writeBlock(MiB, disk.subarray(MiB, 2 * MiB)), (error: unknown) => {
      assert.ok(error instanceof ApplicationFailure);
      assert.equal(error.type, 'UploadRestartNeeded');
      assert.equal(error.nonRetryable, false);
      return true;
    });
    const again = await cloud.openDiskWriter({
      release,
      region: 'r1',
      checksum: checksumOf(disk),
      resumeFromOffset: MiB,
    });
    assert.equal(again.resumeOffset, 0, 'the retry starts over');
  });

  it('refuses blocks off the block grid', async () => {
    const { cloud } = freshLocalCloud('upload-grid');
    const writer = await cloud.openDiskWriter({
      release: releaseRef(),
      region: 'r1',
      checksum: checksumOf(Buffer.alloc(0)),
      resumeFromOffset: 0,
    });
    await assert.rejects(writer.writeBlock(512, Buffer.alloc(512)), /block grid/);
    await assert.rejects(writer.writeBlock(0, Buffer.alloc(MiB + 1)), /block grid/);
  });

  it('refuses account and region names that would leave its directory, as a non-retryable failure', async () => {
    const { cloud, dataDir } = freshLocalCloud('upload-names');
    const checksum = checksumOf(Buffer.alloc(0));
    const cases: Array<[string, string]> = [
      ['acct', '..'],
      ['acct', '../other'],
      ['acct', 'a/b'],
      ['acct', ''],
      ['..', 'r1'],
      ['', 'r1'],
      ['.hidden', 'r1'],
    ];
    for (const [account, region] of cases) {
      await assert.rejects(
        cloud.openDiskWriter({ release: releaseRef(account), region, checksum, resumeFromOffset: 0 }),
        (error: unknown) => {
          assert.ok(error instanceof ApplicationFailure, `${account}/${region}`);
          assert.equal(error.type, 'CloudInvalidRequest');
          assert.equal(error.nonRetryable, true);
          assert.match(error.message, /invalid local (account|region)/);
          return true;
        },
      );
    }
    assert.equal(existsSync(join(dataDir, 'other')), false);
    assert.deepEqual(await readdir(dataDir), []);
  });
});
