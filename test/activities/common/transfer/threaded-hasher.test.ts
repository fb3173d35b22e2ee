// The raw upload's sha512 runs on a worker thread: its digest must be node:crypto's over the
// same bytes in the same order, however far the thread falls behind (the sender waits once
// maxQueuedBytes are queued), and a closed hasher must not keep the process alive.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { threadedHasher } from '../../../../activities/common/transfer/threaded-hasher.js';

describe('threadedHasher', () => {
  it('gives the digest of every block in order, and the caller may reuse its buffers at once', async () => {
    const hasher = threadedHasher('sha512');
    const inline = createHash('sha512');
    const block = Buffer.alloc(256 * 1024);
    for (let i = 0; i < 40; i++) {
      randomBytes(block.length).copy(block); // the same buffer refilled: the thread must hash a copy
      inline.update(block);
      await hasher.update(block);
      assert.equal(
        block.length,
        256 * 1024,
        "the caller's block was handed to the thread (detached), not copied",
      );
    }
    assert.equal(await hasher.hex(), inline.digest('hex'));
  });

  it('makes the sender wait when more than maxQueuedBytes are queued, and still digests them all', async () => {
    const limit = 1024 * 1024;
    const hasher = threadedHasher('sha256', limit);
    const inline = createHash('sha256');
    let waited = 0;
    for (let i = 0; i < 64; i++) {
      const block = randomBytes(512 * 1024);
      inline.update(block);
      const update = hasher.update(block);
      let settled = false;
      void update.then(() => (settled = true));
      await Promise.resolve();
      if (!settled) waited++;
      await update;
    }
    assert.ok(waited > 0, 'the sender never waited for the thread, so nothing bounds what is queued');
    assert.equal(await hasher.hex(), inline.digest('hex'));
  });

  it('closes without a digest (a failed transfer) and refuses more blocks', async () => {
    const hasher = threadedHasher('sha512');
    await hasher.update(randomBytes(1024));
    await hasher.close();
    await assert.rejects(() => hasher.hex(), /sha512 thread was closed/);
    await assert.rejects(() => hasher.update(randomBytes(1)), /sha512 thread was closed/);
  });
});
