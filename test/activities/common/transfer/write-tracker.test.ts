import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { DiskWriter } from '../../../../activities/provider.js';
import { blocksOf, isAllZero } from '../../../../activities/common/transfer/block-cutter.js';
import { WriteTracker } from '../../../../activities/common/transfer/write-tracker.js';

/** A writer whose writes finish when the test says, to put completions out of order. */
function heldWriter(maxConcurrentWrites: number) {
  const pending = new Map<number, { resolve(): void; reject(e: Error): void }>();
  const writer: DiskWriter = {
    blockSize: 4,
    maxConcurrentWrites,
    zeroBlocksMayBeSkipped: true,
    resumeOffset: 0,
    writeBlock: (offset) =>
      new Promise<void>((resolve, reject) => void pending.set(offset, { resolve, reject })),
    commit: () => Promise.reject(new Error('not used')),
    abort: () => Promise.resolve(),
  };
  const finish = async (offset: number, error?: Error) => {
    const write = pending.get(offset)!;
    pending.delete(offset);
    if (error) write.reject(error);
    else write.resolve();
    await new Promise((resolve) => setImmediate(resolve));
  };
  return { writer, pending, finish };
}

describe('write tracking', () => {
  it('advances the resume point only over a contiguous prefix of finished blocks', async () => {
    const { writer, finish } = heldWriter(8);
    const tracker = new WriteTracker(writer, 0);
    for (let i = 0; i < 4; i++) await tracker.submit(Buffer.alloc(4, 1), false);
    await finish(8);
    await finish(4);
    assert.equal(tracker.contiguousEnd, 0, 'block 0 is still in flight');
    await finish(0);
    assert.equal(tracker.contiguousEnd, 12);
    await tracker.submit(Buffer.alloc(4), true); // a skipped block is done at once…
    assert.equal(tracker.contiguousEnd, 12, '…but not ahead of block 12');
    await finish(12);
    assert.equal(tracker.contiguousEnd, 20);
    assert.equal(tracker.bytesWritten, 16);
  });

  it('waits for a free slot when maxConcurrentWrites are in flight', async () => {
    const { writer, pending, finish } = heldWriter(2);
    const tracker = new WriteTracker(writer, 0);
    await tracker.submit(Buffer.alloc(4, 1), false);
    let returned = false;
    const second = tracker.submit(Buffer.alloc(4, 1), false).then(() => (returned = true));
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(returned, false, 'submit waits while two writes are in flight');
    assert.equal(pending.size, 2);
    await finish(4);
    await second;
    assert.equal(tracker.peakInFlight, 2);
  });

  it('surfaces the first write failure and still lets the other writes settle', async () => {
    const { writer, finish } = heldWriter(4);
    const tracker = new WriteTracker(writer, 0);
    await tracker.submit(Buffer.alloc(4, 1), false);
    await tracker.submit(Buffer.alloc(4, 1), false);
    await finish(0, new Error('throttled'));
    await assert.rejects(tracker.submit(Buffer.alloc(4, 1), false), /throttled/);
    const settled = tracker.settle();
    await finish(4);
    await settled;
    await assert.rejects(tracker.drain(), /throttled/);
  });
});

describe('block cutting', () => {
  it('cuts chunks of any size into fixed blocks, the last one short', async () => {
    async function* chunks() {
      yield Buffer.from('abc');
      yield Buffer.from('defghij');
      yield Buffer.from('k');
    }
    const blocks: string[] = [];
    for await (const block of blocksOf(chunks(), 4)) blocks.push(block.toString());
    assert.deepEqual(blocks, ['abcd', 'efgh', 'ijk']);
  });

  it('tells zero blocks from blocks with a single set byte anywhere', () => {
    assert.equal(isAllZero(Buffer.alloc(65536)), true);
    assert.equal(isAllZero(Buffer.alloc(1000)), true);
    for (const at of [0, 4095, 65535]) {
      const block = Buffer.alloc(65536);
      block[at] = 1;
      assert.equal(isAllZero(block), false, `byte ${at}`);
    }
  });
});
