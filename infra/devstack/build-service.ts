/**
 * A local stand-in for an Open Build Service download directory, for tests, benchmarks and
 * the demo: builds named `NAME.ARCH-VERSION-BuildRELEASE.raw[.xz|.gz]` with a `.sha256`
 * checksum file and a kiwi `.packages` manifest, served over HTTP with an index page and
 * Range requests (so interrupted downloads can resume), optionally throttled.
 */
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, readdir, stat, writeFile } from 'node:fs/promises';
import { createServer, type ServerResponse } from 'node:http';
import { createHash } from 'node:crypto';
import { spawn } from 'node:child_process';
import { join, normalize } from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
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
  packages?: BuildPackage[];
  checksum?: 'sha256' | 'sha512';
  /** Writes a wrong digest, for checksum-mismatch tests. */
  corruptChecksum?: boolean;
}

export async function publishBuild(root: string, build: PublishBuildOptions): Promise<{ fileName: string; checksumHex: string }> {
  await mkdir(root, { recursive: true });
  const stem = `${build.image}.${build.arch}-${build.version}-Build${build.release}`;
  const compression = build.compression ?? 'none';
  const fileName = `${stem}.raw${compression === 'xz' ? '.xz' : compression === 'gz' ? '.gz' : ''}`;
  const target = join(root, fileName);
  if (compression === 'none') {
    await pipeline(createReadStream(build.disk), createWriteStream(target));
  } else {
    const tool = spawn(compression, ['--stdout', '-1', ...(compression === 'xz' ? ['--threads=0'] : []), build.disk], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const exited = new Promise<number | null>((resolve) => tool.on('close', resolve));
    await pipeline(tool.stdout, createWriteStream(target));
    if ((await exited) !== 0) throw new Error(`${compression} failed for ${build.disk}`);
  }
  const algorithm = build.checksum ?? 'sha256';
  const hash = createHash(algorithm);
  await pipeline(createReadStream(target), hash);
  let checksumHex = hash.digest('hex');
  if (build.corruptChecksum) checksumHex = checksumHex.replace(/^./, (c) => (c === '0' ? '1' : '0'));
  await writeFile(join(root, `${fileName}.${algorithm}`), `${checksumHex}  ${fileName}\n`);
  const packages = (build.packages ?? []).map(
    (p) => `${p.name}|(none)|${p.version}|${p.release}|${p.arch ?? build.arch}|obs://build.example/${p.name}|${p.license ?? 'MIT'}`,
  );
  await writeFile(join(root, `${stem}.packages`), packages.join('\n') + '\n');
  return { fileName, checksumHex };
}

export interface BuildServer {
  url: string;
  setThrottle(bytesPerSecond?: number): void;
  requests: Array<{ path: string; range?: string }>;
  stop(): Promise<void>;
}

export async function startBuildServer(options: { root: string; bytesPerSecond?: number }): Promise<BuildServer> {
  let bytesPerSecond = options.bytesPerSecond;
  const requests: BuildServer['requests'] = [];
  const server = createServer((req, res) => {
    const path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
    requests.push({ path, range: req.headers.range });
    const file = normalize(join(options.root, path));
    if (!file.startsWith(normalize(options.root))) return void res.writeHead(403).end();
    serve(file, path, req.method ?? 'GET', req.headers.range, res, () => bytesPerSecond).catch(() => {
      if (!res.headersSent) res.writeHead(500);
      res.end();
    });
  });
  const port = await freePort();
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${port}/`,
    setThrottle: (bps) => (bytesPerSecond = bps),
    requests,
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

async function serve(file: string, path: string, method: string, range: string | undefined, res: ServerResponse, throttle: () => number | undefined) {
  const info = await stat(file).catch(() => undefined);
  if (!info) return void res.writeHead(404).end('not found');
  if (info.isDirectory()) {
    const names = (await readdir(file)).sort();
    const links = names.map((n) => `<a href="${encodeURIComponent(n)}">${n}</a>`).join('\n');
    return void res.writeHead(200, { 'content-type': 'text/html' }).end(`<html><body><h1>Index of ${path}</h1>\n${links}\n</body></html>`);
  }
  const start = Number(/^bytes=(\d+)-$/.exec(range ?? '')?.[1] ?? 0);
  const headers = { 'content-length': String(info.size - start), 'accept-ranges': 'bytes' };
  if (start > 0) res.writeHead(206, { ...headers, 'content-range': `bytes ${start}-${info.size - 1}/${info.size}` });
  else res.writeHead(200, headers);
  if (method === 'HEAD') return void res.end();
  await pipeline(createReadStream(file, { start, highWaterMark: 256 * 1024 }), throttled(throttle), res);
}

/** Paces the body to a rate that can change while it is being sent. */
function throttled(rate: () => number | undefined): Transform {
  return new Transform({
    transform(chunk: Buffer, _encoding, done) {
      const bps = rate();
      if (!bps) return done(null, chunk);
      setTimeout(() => done(null, chunk), (1000 * chunk.length) / bps);
    },
  });
}
