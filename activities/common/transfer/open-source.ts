import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { Readable, addAbortSignal } from 'node:stream';
import type { ReadableStream } from 'node:stream/web';
import { fileURLToPath } from 'node:url';
import { nonRetryable } from '../errors.js';
import { openS3SourceStream } from '../download/s3-source.js';

export interface OpenedSource {
  stream: Readable;
  /** Where the stream starts: the offset asked for, or 0 when the server ignored the Range. */
  offset: number;
  /** Size of the whole file, when known. */
  totalBytes?: number;
}

const READ_CHUNK = 1024 * 1024;

/**
 * The image file's bytes from `offset` on (http/https with `Range: bytes=N-`, file:// by
 * position, s3:// with a ranged GetObject). A server that ignores the Range sends the whole file and says so by its 200:
 * `offset` then reads 0 and the caller starts over.
 */
export async function openSourceStream(
  url: string,
  offset: number,
  signal?: AbortSignal,
  /** s3:// sources: the EC2 account whose credentials read the object. */
  s3Account?: string,
  /** s3:// sources: the ETag the object was resolved with; another object at the key fails the read. */
  s3Etag?: string,
): Promise<OpenedSource> {
  if (url.startsWith('s3:')) return openS3SourceStream(url, s3Account, offset, signal, s3Etag);
  if (url.startsWith('file:')) {
    const path = fileURLToPath(url);
    const info = await stat(path).catch((error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT') throw nonRetryable('ImageSourceNotFound', `${url} no longer exists`);
      throw error;
    });
    const start = offset <= info.size ? offset : 0;
    const stream = createReadStream(path, { start, highWaterMark: READ_CHUNK });
    return { stream: signal ? addAbortSignal(signal, stream) : stream, offset: start, totalBytes: info.size };
  }

  let response = await get(url, offset, signal);
  if (response.status === 416) {
    // Asked for the bytes after the end: fine when the earlier attempt had read them all.
    const total = Number(/\/(\d+)$/.exec(response.headers.get('content-range') ?? '')?.[1] ?? NaN);
    await response.body?.cancel();
    if (total === offset) return { stream: Readable.from([]), offset, totalBytes: total };
    response = await get(url, 0, signal);
  }
  if (response.status === 404 || response.status === 410) {
    await response.body?.cancel();
    throw nonRetryable(
      'ImageSourceNotFound',
      `${url} answered ${response.status}: the build was removed after it was resolved`,
    );
  }
  if (!response.ok || !response.body) {
    await response.body?.cancel();
    throw new Error(`${url} answered ${response.status} ${response.statusText}`);
  }
  const range = /^bytes (\d+)-\d+\/(\d+|\*)$/.exec(response.headers.get('content-range') ?? '');
  const start = response.status === 206 && range ? Number(range[1]) : 0;
  if (response.status === 206 && start !== offset) {
    await response.body.cancel();
    throw new Error(`${url} answered a Range request for byte ${offset} with bytes from ${start}`);
  }
  const length = Number(response.headers.get('content-length') ?? NaN);
  const totalBytes =
    range && range[2] !== '*' ? Number(range[2]) : Number.isSafeInteger(length) ? start + length : undefined;
  const stream = Readable.fromWeb(response.body as ReadableStream<Uint8Array>);
  // fetch's own signal does not always error a body that is being read (the read just
  // stalls), so the stream is also tied to the signal directly.
  return { stream: signal ? addAbortSignal(signal, stream) : stream, offset: start, totalBytes };
}

async function get(url: string, offset: number, signal?: AbortSignal): Promise<Response> {
  try {
    return await fetch(url, { signal, headers: offset > 0 ? { Range: `bytes=${offset}-` } : {} });
  } catch (error) {
    if (signal?.aborted) throw error;
    const cause = (error as { cause?: { message?: string } }).cause?.message;
    throw new Error(`GET ${url} failed: ${cause ?? (error as Error).message}`, { cause: error });
  }
}
