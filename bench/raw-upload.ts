// bench: the raw image upload (the file as served, streamed from the build service into an S3
// bucket in moto as a multipart upload, verified and sha512-hashed in the same pass) against
// a baseline in the same run: the same bytes, read the same way, sent as a plain SDK multipart
// upload with no hashing. The cost of sha512 is the step with it against the same pass
// without it (a sha256 checksum file, as OBS publishes, verified in both). Each object is
// deleted after its run (moto keeps objects in memory).
// Usage: node dist/bench/raw-upload.js [sizeMiB=2048] [runs=3]
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { Readable } from 'node:stream';
import {
  CompleteMultipartUploadCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  S3Client,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { startBuildServer } from '../infra/devstack/build-service.js';
import { startMotoServer } from '../infra/devstack/moto-server.js';
import { openSourceStream } from '../activities/common/transfer/open-source.js';
import { blocksOf } from '../activities/common/transfer/block-cutter.js';
import { transferImage } from '../activities/common/transfer/transfer-image.js';
import { objectPartSize, openS3ObjectWriter } from '../activities/common/raw-upload/s3-object-writer.js';
import type { ResolvedImageSource } from '../activities/provider.js';
import { fmt, median, mibPerSecond, MiB } from './stats.js';

const sizeMiB = Number(process.argv[2] ?? 2048);
const runs = Number(process.argv[3] ?? 3);
const BUCKET = 'bench-raw';
const work = mkdtempSync(join(tmpdir(), 'imagecast-bench-raw-'));
const FILE = 'bench-image.x86_64-1.0.0-Build1.1.raw.xz';

/** Random (incompressible, like an .xz) bytes, written 16 MiB at a time. */
async function writeRandomFile(path: string): Promise<void> {
  let left = sizeMiB;
  const chunks = (function* () {
    while (left-- > 0) yield randomBytes(MiB);
  })();
  await pipeline(Readable.from(chunks), createWriteStream(path));
}

async function digest(path: string, algorithm: 'sha256' | 'sha512'): Promise<string> {
  const hash = createHash(algorithm);
  await pipeline(createReadStream(path), hash);
  return hash.digest('hex');
}

const moto = await startMotoServer({ logFile: join(work, 'moto.log') });
const s3 = new S3Client({
  region: 'us-east-1',
  endpoint: moto.endpoint,
  forcePathStyle: true,
  credentials: {
    accessKeyId: 'AKIAIMAGECASTBENCH01',
    secretAccessKey: 'imagecast-bench-secret-000000000000000',
  },
});
try {
  await s3.send(new CreateBucketCommand({ Bucket: BUCKET }));
  await writeRandomFile(join(work, FILE));
  const [sha256, sha512] = [
    await digest(join(work, FILE), 'sha256'),
    await digest(join(work, FILE), 'sha512'),
  ];
  const server = await startBuildServer({ root: work });
  const bytes = sizeMiB * MiB;
  const source = (algorithm: 'sha256' | 'sha512'): ResolvedImageSource => ({
    url: `${server.url}${FILE}`,
    fileName: FILE,
    sizeBytes: bytes,
    compression: 'none',
    checksum: { algorithm, hex: algorithm === 'sha256' ? sha256 : sha512 },
  });
  const release = { releaseId: 'bench', releaseToken: 'bench', cloud: 'local' as const, account: 'bench' };
  const partSize = objectPartSize(bytes);

  /** The baseline: the same HTTP read, cut into the same parts, 4 in flight, no hashing. */
  async function plainMultipart(key: string): Promise<void> {
    const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket: BUCKET, Key: key }));
    const opened = await openSourceStream(`${server.url}${FILE}`, 0);
    const inFlight = new Set<Promise<unknown>>();
    const parts: Array<{ PartNumber: number; ETag?: string }> = [];
    let n = 0;
    for await (const block of blocksOf(opened.stream, partSize)) {
      const PartNumber = ++n;
      const sent: Promise<unknown> = s3
        .send(
          new UploadPartCommand({
            Bucket: BUCKET,
            Key: key,
            UploadId,
            PartNumber,
            Body: block,
            ContentLength: block.length,
          }),
        )
        .then((r) => parts.push({ PartNumber, ETag: r.ETag }))
        .finally(() => inFlight.delete(sent));
      inFlight.add(sent);
      while (inFlight.size >= 4) await Promise.race(inFlight);
    }
    await Promise.all(inFlight);
    parts.sort((a, b) => a.PartNumber - b.PartNumber);
    await s3.send(
      new CompleteMultipartUploadCommand({
        Bucket: BUCKET,
        Key: key,
        UploadId,
        MultipartUpload: { Parts: parts },
      }),
    );
  }

  /**
   * What the raw_image_upload activity does, without its heartbeats. `sha512: false` leaves
   * the sha512 out (the transfer still verifies the checksum file): the pass without it.
   */
  async function rawUpload(key: string, algorithm: 'sha256' | 'sha512', sha512Pass = true): Promise<void> {
    const inner = await openS3ObjectWriter(s3, {
      account: 'bench',
      release,
      bucket: BUCKET,
      key,
      sizeBytes: bytes,
      resumeFromOffset: 0,
    });
    const hashing = algorithm === 'sha256' && sha512Pass;
    const object = await transferImage({
      source: source(algorithm),
      writer: inner,
      ...(hashing && { extraDigest: 'sha512' as const }),
    });
    const result = algorithm === 'sha512' ? sha512 : hashing ? object.extraDigestHex : sha512;
    if (result !== sha512) throw new Error(`sha512 ${result} is not the file's ${sha512}`);
  }

  const variants: Array<[string, (key: string) => Promise<unknown>]> = [
    ['plain SDK multipart, no hashing (baseline)', plainMultipart],
    ['raw upload without sha512 (sha256 checksum file verified)', (k) => rawUpload(k, 'sha256', false)],
    ['raw upload with sha512 (sha256 verified + sha512 in the same pass)', (k) => rawUpload(k, 'sha256')],
    ['raw upload, sha512 checksum file (verified sum = the sha512)', (k) => rawUpload(k, 'sha512')],
  ];
  const times = new Map<string, number[]>(variants.map(([name]) => [name, []]));
  for (let run = 0; run < runs; run++) {
    for (const [name, upload] of variants) {
      const key = `run-${run}.raw.xz`;
      const started = performance.now();
      await upload(key);
      times.get(name)!.push(performance.now() - started);
      await s3.send(new DeleteObjectCommand({ Bucket: BUCKET, Key: key }));
    }
  }
  const base = median(times.get(variants[0]![0])!);
  console.log(
    `raw upload of ${sizeMiB} MiB into moto S3 (${partSize / MiB} MiB parts, 4 in flight), medians of ${runs}:`,
  );
  for (const [name] of variants) {
    const m = median(times.get(name)!);
    const cost = name === variants[0]![0] ? '' : `, ${fmt(((m - base) / base) * 100)} % vs baseline`;
    const withoutSha512 = median(times.get(variants[1]![0])!);
    const sha512Cost =
      name === variants[2]![0]
        ? `, sha512 costs ${fmt(((m - withoutSha512) / withoutSha512) * 100)} % of the pass without it`
        : '';
    console.log(
      `  ${name}: ${fmt(m / 1000, 2)} s, ${fmt(mibPerSecond(bytes, m))} MiB/s${cost}${sha512Cost}  [${times
        .get(name)!
        .map((t) => fmt(t / 1000, 2))
        .join(', ')}]`,
    );
  }
  await server.stop();
} finally {
  s3.destroy();
  await moto.stop();
  rmSync(work, { recursive: true, force: true });
}
