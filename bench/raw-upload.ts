// bench: the raw image upload (the file as served, streamed from the build service into an S3
// bucket in moto as a multipart upload, verified and sha512-hashed in the same pass) against
// a baseline in the same run: the same bytes, read the same way, sent as a plain SDK multipart
// upload with no hashing. Two raw-upload variants: a source whose checksum file is sha512 (one
// hash: the verified sum is the sha512) and one whose checksum file is sha256 (sha256 to
// verify plus sha512 for the result). Each object is deleted after its run (moto keeps
// objects in memory).
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
import { withSha512 } from '../activities/common/raw-upload/sha512-writer.js';
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

  /** What the raw_image_upload activity does, without its heartbeats. */
  async function rawUpload(key: string, algorithm: 'sha256' | 'sha512'): Promise<string> {
    const inner = await openS3ObjectWriter(s3, {
      account: 'bench',
      release,
      bucket: BUCKET,
      key,
      sizeBytes: bytes,
      resumeFromOffset: 0,
    });
    const writer = algorithm === 'sha512' ? inner : await withSha512(inner, undefined);
    const object = await transferImage({ source: source(algorithm), writer });
    const result = algorithm === 'sha512' ? sha512 : object.checksum.hex;
    if (result !== sha512) throw new Error(`sha512 ${result} is not the file's ${sha512}`);
    return result;
  }

  const variants: Array<[string, (key: string) => Promise<unknown>]> = [
    ['plain SDK multipart, no hashing (baseline)', plainMultipart],
    ['raw upload, sha512 checksum file (verify = the sha512)', (k) => rawUpload(k, 'sha512')],
    ['raw upload, sha256 checksum file (verify sha256 + sha512)', (k) => rawUpload(k, 'sha256')],
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
    console.log(
      `  ${name}: ${fmt(m / 1000, 2)} s, ${fmt(mibPerSecond(bytes, m))} MiB/s${cost}  [${times
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
