import { createReadStream } from 'node:fs';
import { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';

/** The image bytes from `offset` on; `resumed` is false when the server ignored the Range. */
export async function openSourceStream(
  url: string,
  offset: number,
  signal?: AbortSignal,
): Promise<{ stream: Readable; resumed: boolean }> {
  if (url.startsWith('file:')) {
    return { stream: createReadStream(fileURLToPath(url), { start: offset, highWaterMark: 1024 * 1024 }), resumed: true };
  }
  const response = await fetch(url, { signal, headers: offset > 0 ? { Range: `bytes=${offset}-` } : {} });
  if (!response.ok || !response.body) throw new Error(`${url} answered ${response.status} ${response.statusText}`);
  const stream = Readable.fromWeb(response.body as import('node:stream/web').ReadableStream);
  return { stream, resumed: offset > 0 && response.status === 206 };
}
