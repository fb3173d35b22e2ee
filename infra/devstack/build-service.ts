/**
 * A local stand-in for an Open Build Service download directory, for tests, benchmarks and
 * the demo: builds named `NAME.ARCH-VERSION-BuildRELEASE.raw[.xz|.gz]` with a checksum file
 * and a kiwi `.packages` manifest beside them, served over HTTP with an index page and
 * Range requests (so interrupted downloads can resume), optionally throttled (so a test can
 * stop a worker mid-transfer).
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { join, resolve, sep } from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { paddedVhdDiskSize, vhdFooter } from '../../activities/common/transfer/vhd-footer.js';
import { freePort } from './free-port.js';

export interface BuildPackage {
  name: string;
  version: string;
  release: string;
  arch?: string;
  license?: string;
}

export interface PublishBuildOptions {
  image: string;
  arch: 'x86_64' | 'aarch64';
  version: string;
  release: string;
  /** Path to the raw disk to publish. */
  disk: string;
  compression?: 'none' | 'xz' | 'gz';
  /** `vhdfixed`: kiwi's Azure image, `.vhdfixed.xz` (the disk padded to a whole MiB, then a VHD footer; xz always). */
  format?: 'raw' | 'vhdfixed';
  /** With vhdfixed: break the footer's checksum, for refusal tests. */
  corruptFooter?: boolean;
  packages?: BuildPackage[];
  checksum?: 'sha256' | 'sha512';
  /** Writes a wrong digest, for checksum-mismatch tests. */
  corruptChecksum?: boolean;
  /** Wraps the checksum file in a PGP clear-signed message, as OBS signs them (the signature is a dummy). */
  signChecksum?: boolean;
}

/**
 * Publishes one build into `root` the way OBS does: the image file, `<file>.sha256` (or
 * `.sha512`) holding `<hex>  <file>`, and `<stem>.packages`. Returns the image's file name
 * and the digest its checksum file states (the wrong one with `corruptChecksum`).
 */
export async function publishBuild(
  root: string,
  build: PublishBuildOptions,
): Promise<{ fileName: string; checksumHex: string }> {
  await mkdir(root, { recursive: true });
  const stem = `${build.image}.${build.arch}-${build.version}-Build${build.release}`;
  const vhd = build.format === 'vhdfixed';
  const compression = vhd ? 'xz' : (build.compression ?? 'none');
  const fileName = vhd ? `${stem}.vhdfixed.xz` : `${stem}.raw${compression === 'none' ? '' : `.${compression}`}`;
  const target = join(root, fileName);
  const disk = vhd ? await asFixedVhd(build.disk, join(root, `${stem}.vhdfixed`), build.corruptFooter) : build.disk;
  if (compression === 'none') await pipeline(createReadStream(disk), createWriteStream(target));
  else await compressFile(compression, disk, target);
  if (vhd) await rm(disk);

  const algorithm = build.checksum ?? 'sha256';
  const hash = createHash(algorithm);
  await pipeline(createReadStream(target), hash);
  let checksumHex = hash.digest('hex');
  if (build.corruptChecksum) checksumHex = (checksumHex[0] === '0' ? '1' : '0') + checksumHex.slice(1);
  const line = `${checksumHex}  ${fileName}\n`;
  await writeFile(join(root, `${fileName}.${algorithm}`), build.signChecksum ? clearSigned(line) : line);

  const packages = (build.packages ?? []).map((p) =>
    [
      p.name,
      '(none)',
      p.version,
      p.release,
      p.arch ?? build.arch,
      `obs://build.example.org/images/${p.name}`,
      p.license ?? 'MIT',
    ].join('|'),
  );
  await writeFile(join(root, `${stem}.packages`), packages.map((l) => `${l}\n`).join(''));
  return { fileName, checksumHex };
}

/** The disk as kiwi writes a fixed VHD: padded with zeros to a whole MiB, then the footer. */
async function asFixedVhd(disk: string, target: string, corrupt = false): Promise<string> {
  const raw = await readFile(disk);
  const size = paddedVhdDiskSize(raw.length);
  const footer = vhdFooter({ sizeBytes: size, uniqueId: Buffer.alloc(16, 7), timestamp: new Date() });
  if (corrupt) footer.writeUInt8(footer.readUInt8(100) ^ 0xff, 100); // inside the reserved bytes: only the checksum notices
  await writeFile(target, Buffer.concat([raw, Buffer.alloc(size - raw.length), footer]));
  return target;
}

/** Compresses with the real tool, streaming, at its fastest level (tests want speed, not size). */
async function compressFile(tool: 'xz' | 'gz', source: string, target: string): Promise<void> {
  const command = tool === 'xz' ? 'xz' : 'gzip';
  // xz with threads writes multi-block files, which xz can also decompress in parallel.
  const args = tool === 'xz' ? ['--stdout', '-0', '--threads=0', source] : ['--stdout', '-1', source];
  const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<number | null>((done, fail) => {
    child.once('error', fail);
    child.once('close', done);
  });
  await pipeline(child.stdout, createWriteStream(target));
  const code = await exited;
  if (code !== 0) throw new Error(`${command} failed compressing ${source} (exit ${code}): ${stderr.trim()}`);
}

function clearSigned(text: string): string {
  const signature = Buffer.from('not a real signature: tests only check that it is skipped').toString(
    'base64',
  );
  return `-----BEGIN PGP SIGNED MESSAGE-----\nHash: SHA256\n\n${text}-----BEGIN PGP SIGNATURE-----\nVersion: GnuPG v2\n\n${signature}\n=abcd\n-----END PGP SIGNATURE-----\n`;
}

export interface BuildServer {
  /** The directory's URL, ending with `/`: what a job's `download_url` holds. */
  url: string;
  /** Paces every response body at this rate from now on; undefined for full speed. */
  setThrottle(bytesPerSecond?: number): void;
  /** Every request in arrival order, with its Range header. */
  requests: Array<{ path: string; range?: string }>;
  /** Body bytes sent so far, over every request (what a resumed or reused release did not fetch again). */
  bytesServed(): number;
  stop(): Promise<void>;
}

/** Serves `root` on 127.0.0.1 at a free port, like a build service's download server. */
export async function startBuildServer(options: {
  root: string;
  bytesPerSecond?: number;
}): Promise<BuildServer> {
  let bytesPerSecond = options.bytesPerSecond;
  const root = resolve(options.root);
  const requests: BuildServer['requests'] = [];
  let served = 0;
  const server = createServer((req, res) => {
    handle(root, req, res, requests, () => bytesPerSecond, (n) => (served += n)).catch(() => {
      if (!res.headersSent) res.writeHead(500).end();
      else res.destroy();
    });
  });
  const port = await freePort();
  await new Promise<void>((done, fail) => {
    server.once('error', fail);
    server.listen(port, '127.0.0.1', done);
  });
  return {
    url: `http://127.0.0.1:${port}/`,
    setThrottle: (bps) => (bytesPerSecond = bps),
    requests,
    bytesServed: () => served,
    stop: () =>
      new Promise<void>((done) => {
        server.close(() => done());
        server.closeAllConnections();
      }),
  };
}

async function handle(
  root: string,
  req: IncomingMessage,
  res: ServerResponse,
  requests: BuildServer['requests'],
  rate: () => number | undefined,
  count: (bytes: number) => void,
): Promise<void> {
  const path = decodeURIComponent(new URL(req.url ?? '/', 'http://localhost').pathname);
  requests.push({ path, range: req.headers.range });
  const file = resolve(root, `.${path}`);
  if (file !== root && !file.startsWith(root + sep)) return void res.writeHead(403).end();
  const info = await stat(file).catch(() => undefined);
  if (!info) return void res.writeHead(404, { 'content-type': 'text/plain' }).end('Not Found\n');

  if (info.isDirectory()) {
    // Like Apache: a directory is only listed under its slash-terminated URL.
    if (!path.endsWith('/')) return void res.writeHead(301, { location: `${path}/` }).end();
    return void res
      .writeHead(200, { 'content-type': 'text/html; charset=utf-8' })
      .end(indexPage(path, await readdir(file, { withFileTypes: true })));
  }

  const start = Number(/^bytes=(\d+)-$/.exec(req.headers.range ?? '')?.[1] ?? 0);
  if (start > 0 && start >= info.size) {
    return void res.writeHead(416, { 'content-range': `bytes */${info.size}` }).end();
  }
  const headers = {
    'content-length': String(info.size - start),
    'accept-ranges': 'bytes',
    'content-type': 'application/octet-stream',
    // As OBS's download servers: when the build was made (use_build_time reads it).
    'last-modified': info.mtime.toUTCString(),
  };
  if (start > 0)
    res.writeHead(206, { ...headers, 'content-range': `bytes ${start}-${info.size - 1}/${info.size}` });
  else res.writeHead(200, headers);
  if (req.method === 'HEAD') return void res.end();
  await pipeline(createReadStream(file, { start, highWaterMark: 64 * 1024 }), paced(rate, count), res);
}

function indexPage(path: string, entries: Array<{ name: string; isDirectory(): boolean }>): string {
  const links = entries
    .map((e) => (e.isDirectory() ? `${e.name}/` : e.name))
    .sort()
    .map((name) => `<a href="${encodeURIComponent(name).replace(/%2F$/, '/')}">${escapeHtml(name)}</a>`);
  const title = `Index of ${escapeHtml(path)}`;
  return `<!DOCTYPE html>\n<html><head><title>${title}</title></head><body>\n<h1>${title}</h1>\n<pre>\n<a href="../">Parent Directory</a>\n${links.join('\n')}\n</pre>\n</body></html>\n`;
}

function escapeHtml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/**
 * Paces a body at a rate read before every slice of 50 ms worth of bytes, so a test that
 * changes the rate (or lifts it) mid-transfer sees the change at once.
 */
function paced(rate: () => number | undefined, count: (bytes: number) => void): Transform {
  return new Transform({
    highWaterMark: 64 * 1024,
    async transform(chunk: Buffer, _encoding, done) {
      let sent = 0;
      while (sent < chunk.length) {
        const bps = rate();
        const slice = bps ? Math.max(1024, Math.floor(bps / 20)) : chunk.length;
        const piece = chunk.subarray(sent, sent + slice);
        if (bps) await new Promise((resolve) => setTimeout(resolve, (1000 * piece.length) / bps));
        this.push(piece);
        count(piece.length);
        sent += piece.length;
      }
      done();
    },
  });
}
