// The upload's one streaming pass also gives the file's sha512 and size as served (image lists
// publish them, via transferImage's extraDigest): for a compressed file the compressed bytes,
// and across a resumed attempt the whole file (a retry reads the source from its start and
// uploads only what the writer does not hold).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { transferImage, type TransferResumeState } from '../../../../activities/common/transfer/transfer-image.js';
import type { ResolvedImageSource } from '../../../../activities/provider.js';
import { startBuildServer, type BuildServer } from '../../../../infra/devstack/build-service.js';
import { publishedSource } from '../../../support/build-sources.js';
import { tempDir } from '../../../support/stack.js';
import { FileDiskWriter, writeTestDisk } from './file-disk-writer.js';

const BLOCK = 64 * 1024;
const root = tempDir('served-builds');
const sinks = tempDir('served-disks');
const disk = join(tempDir('served-disk'), 'disk.raw');
let server: BuildServer;
let count = 0;

before(async () => {
  await writeTestDisk(disk, { blocks: 64, blockSize: BLOCK, dataEvery: 2 });
  server = await startBuildServer({ root });
});
after(() => server.stop());

async function published(compression: 'none' | 'xz'): Promise<{ source: ResolvedImageSource; served: Buffer }> {
  const name = `dir${++count}`;
  const { source, fileName } = await publishedSource(join(root, name), `${server.url}${name}/`, {
    disk,
    compression,
  });
  return { source, served: await readFile(join(root, name, fileName)) };
}

const sink = (path: string, resumeOffset = 0) =>
  FileDiskWriter.open(path, { blockSize: BLOCK, maxConcurrentWrites: 4, zeroBlocksMayBeSkipped: true, resumeOffset, maxWriteDelayMs: 3 });
const sha512 = (bytes: Buffer) => createHash('sha512').update(bytes).digest('hex');

describe('sha512 of the file as served, in the upload pass', () => {
  it('hashes a sha256-checked raw file across a resumed attempt, whole (transfer-resume.test covers what is not uploaded again)', async () => {
    const { source, served } = await published('none');
    assert.equal(source.checksum.algorithm, 'sha256');
    const path = join(sinks, `disk${++count}.raw`);
    const first = await sink(path);
    const controller = new AbortController();
    let resume: TransferResumeState | undefined;
    await assert.rejects(
      transferImage({
        source,
        writer: first,
        extraDigest: 'sha512',
        signal: controller.signal,
        progressIntervalMs: 0,
        onProgress: (p) => {
          resume = p.resume;
          if (p.resume.diskOffset >= served.length / 2) controller.abort(new Error('worker shutting down'));
        },
      }),
      /worker shutting down/,
    );
    await first.close();
    assert.ok(resume?.prefixChecksum, 'the heartbeat carries the digest of the uploaded prefix');
    assert.ok(resume.diskOffset > 0);

    const writer = await sink(path, resume.diskOffset);
    const uploaded = await transferImage({ source, writer, resume, extraDigest: 'sha512' });
    assert.deepEqual(
      { sizeBytes: uploaded.sourceBytesRead, sha512: uploaded.extraDigestHex },
      { sizeBytes: served.length, sha512: sha512(served) },
    );
  });

  it('hashes a compressed file as served (compressed), not the disk it becomes', async () => {
    const { source, served } = await published('xz');
    const uploaded = await transferImage({ source, writer: await sink(join(sinks, `disk${++count}.raw`)), extraDigest: 'sha512' });
    assert.deepEqual(
      { sizeBytes: uploaded.sourceBytesRead, sha512: uploaded.extraDigestHex },
      { sizeBytes: served.length, sha512: sha512(served) },
    );
    assert.notEqual(uploaded.sizeBytes, served.length);
  });

  it('gives nothing extra when not asked', async () => {
    const { source } = await published('none');
    const uploaded = await transferImage({ source, writer: await sink(join(sinks, `disk${++count}.raw`)) });
    assert.equal(uploaded.extraDigestHex, undefined);
  });
});
