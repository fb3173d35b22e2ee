import { spawn } from 'node:child_process';
import { Duplex } from 'node:stream';
import { createGunzip } from 'node:zlib';
import type { ResolvedImageSource } from '../../provider.js';

/** A decompressing stage of the transfer pipeline and the process behind it, if any. */
export interface Decompressor {
  stream: Duplex;
  /**
   * Resolves once the decompressor is done; rejects with its own error message when it
   * failed (corrupt or truncated input), which says more than the broken pipe it causes.
   */
  exited: Promise<void>;
  /** Stops it at once and waits until it is gone; safe to call when it already ended. */
  kill(): Promise<void>;
}

/**
 * The decompressor for a source's compression, or undefined for a raw image. gzip runs
 * in-process (zlib); xz runs as the `xz` tool in its own process, which decompresses
 * faster than any JS port and on its own CPU, with data streaming through its pipes.
 */
export function createDecompressor(
  compression: ResolvedImageSource['compression'],
): Decompressor | undefined {
  if (compression === 'none') return undefined;
  if (compression === 'gz') {
    const gunzip = createGunzip({ chunkSize: 256 * 1024 });
    return { stream: gunzip, exited: Promise.resolve(), kill: async () => void gunzip.destroy() };
  }
  return xzDecompressor();
}

function xzDecompressor(): Decompressor {
  const child = spawn('xz', ['--decompress', '--stdout', '--threads=0'], { stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (text: string) => {
    if (stderr.length < 4096) stderr += text;
  });
  let killed = false;
  const gone = new Promise<void>((resolve) => child.once('close', () => resolve()));
  const exited = new Promise<void>((resolve, reject) => {
    child.once('error', (error) =>
      reject(new Error(`could not run xz to decompress the image: ${error.message}`)),
    );
    child.once('close', (code, signal) => {
      if (code === 0 || killed) resolve();
      else
        reject(
          new Error(`xz could not decompress the image (${signal ?? `exit ${code}`}): ${stderr.trim()}`),
        );
    });
  });
  // Whoever awaits it sees the failure; nobody awaiting it must not crash the worker.
  exited.catch(() => undefined);
  return {
    stream: Duplex.from({ writable: child.stdin, readable: child.stdout }),
    exited,
    async kill() {
      if (child.exitCode === null && child.signalCode === null) {
        killed = true;
        child.kill('SIGKILL');
      }
      // 'close' waits for the pipes too, and a paused pipe with unread output never closes
      // by itself (destroying the Duplex does not always reach it).
      for (const pipe of [child.stdin, child.stdout, child.stderr]) pipe.destroy();
      if (child.pid !== undefined) await gone;
    },
  };
}
