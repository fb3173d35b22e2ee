// The Azure upload's pure parts: which pages of a block are sent, and how Azure Storage's
// refusals are classified.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { RestError } from '@azure/storage-blob';
import { ApplicationFailure } from '@temporalio/common';
import { nonZeroPageRuns, padToPages } from '../../../activities/azure/page-runs.js';
import { classifyAzureError, isBlobNotFound } from '../../../activities/azure/azure-errors.js';

const KiB = 1024;
const where = { account: 'imagecaststore', container: 'images' };

/** A block from pieces: a number is that many zero bytes, 'd' + n that many random ones. */
function block(...pieces: Array<number | `d${number}`>): Buffer {
  return Buffer.concat(
    pieces.map((p) =>
      typeof p === 'number' ? Buffer.alloc(p) : randomBytes(Number(p.slice(1))).fill(1, 0, 1),
    ),
  );
}

describe('azure upload (pure)', () => {
  it('sends the non-zero pages of a block, skipping zero gaps of 64 KiB or more and any at its ends', () => {
    assert.deepEqual(nonZeroPageRuns(block(4 * KiB * KiB)), [], 'an all-zero block sends nothing');
    assert.deepEqual(nonZeroPageRuns(block('d1024')), [[0, 1024]]);
    assert.deepEqual(
      nonZeroPageRuns(block(8 * KiB, 'd512', 1024)),
      [[8 * KiB, 8 * KiB + 512]],
      'ends trimmed',
    );
    assert.deepEqual(
      nonZeroPageRuns(block('d512', 64 * KiB - 512, 'd512')),
      [[0, 64 * KiB + 512]],
      'a gap just under 64 KiB is sent: cheaper than another request',
    );
    assert.deepEqual(nonZeroPageRuns(block('d512', 64 * KiB, 'd512', 128 * KiB, 'd1024')), [
      [0, 512],
      [64 * KiB + 512, 64 * KiB + 1024],
      [192 * KiB + 1024, 192 * KiB + 2048],
    ]);
    // A page with a single non-zero byte at its end is data.
    const lastByte = block(2048);
    lastByte[1023] = 1;
    assert.deepEqual(nonZeroPageRuns(lastByte), [[512, 1024]]);
    assert.throws(() => nonZeroPageRuns(block('d100')), /not whole pages/);
  });

  it('zero-pads a short last block to whole pages', () => {
    const short = block('d700');
    const padded = padToPages(short);
    assert.equal(padded.length, 1024);
    assert.ok(padded.subarray(0, 700).equals(short));
    assert.ok(padded.subarray(700).every((b) => b === 0));
    const whole = block('d1024');
    assert.equal(padToPages(whole), whole, 'whole pages pass as they are');
  });

  it("keeps throttling and the service's faults retryable, and fails at once on what a retry cannot fix", () => {
    const rest = (statusCode: number, code: string) =>
      new RestError(`${code} message\nRequestId:x\nTime:y`, { statusCode, code });
    for (const transient of [
      rest(500, 'InternalError'),
      rest(503, 'ServerBusy'),
      rest(429, 'TooManyRequests'),
      rest(408, 'x'),
      new Error('ECONNRESET'),
    ]) {
      assert.ok(
        !(classifyAzureError(transient, 'upload pages', where) instanceof ApplicationFailure),
        transient.message,
      );
    }
    const kinds: Array<[RestError, string, RegExp]> = [
      [
        rest(403, 'AuthorizationPermissionMismatch'),
        'CloudPermissionDenied',
        /Storage Blob Data Contributor.*imagecaststore/,
      ],
      [
        rest(404, 'ContainerNotFound'),
        'CloudInvalidRequest',
        /create the container "images" in storage account imagecaststore/,
      ],
      [rest(412, 'LeaseIdMissing'), 'CloudInvalidRequest', /the blob is leased/],
      [rest(400, 'InvalidPageRange'), 'CloudInvalidRequest', /InvalidPageRange: InvalidPageRange message —/],
    ];
    for (const [error, type, advice] of kinds) {
      const failure = classifyAzureError(error, 'upload pages', where) as ApplicationFailure;
      assert.ok(failure instanceof ApplicationFailure && failure.nonRetryable, type);
      assert.equal(failure.type, type);
      assert.match(
        failure.message,
        /^Azure upload pages refused \(storage account imagecaststore, container images\): /,
      );
      assert.match(failure.message, advice);
      assert.doesNotMatch(failure.message, /RequestId/, "the first line of Azure's message only");
    }
    // A HEAD answer has no body: its code is only in the header the SDK keeps in `details`.
    const head = new RestError('', { statusCode: 404 });
    Object.assign(head, { details: { errorCode: 'BlobNotFound' } });
    assert.equal(
      classifyAzureError(head, 'read blob properties', where),
      head,
      'a vanished blob: the retry starts over',
    );
    assert.ok(isBlobNotFound(head));
    assert.ok(!isBlobNotFound(rest(404, 'ContainerNotFound')));
  });
});
