import { readFile, readdir, stat } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';

/** A 404 (or a missing local file): the caller decides whether that means "no such build". */
export class NotFound extends Error {
  override readonly name = 'NotFound';
}

/**
 * GETs a small text file or a directory listing over http(s), or reads it from a file://
 * URL (a directory reads as one name per line). Server errors and network failures are
 * plain errors, so the activity's retry policy tries again.
 */
export async function fetchText(url: string, signal?: AbortSignal): Promise<string> {
  if (url.startsWith('file:')) {
    const path = fileURLToPath(url);
    try {
      return url.endsWith('/') ? (await readdir(path)).join('\n') : await readFile(path, 'utf8');
    } catch (error) {
      if (isMissing(error)) throw new NotFound(`${url} does not exist`);
      throw error;
    }
  }
  const response = await get(url, 'GET', signal);
  if (response.status === 404 || response.status === 410) {
    await response.body?.cancel();
    throw new NotFound(`${url} answered ${response.status} ${response.statusText}`);
  }
  if (!response.ok) {
    await response.body?.cancel();
    throw new Error(`${url} answered ${response.status} ${response.statusText}`);
  }
  return response.text();
}

/** The size of the file behind `url`, when the server says (HEAD's Content-Length). */
export async function contentLength(url: string, signal?: AbortSignal): Promise<number | undefined> {
  return (await fileFacts(url, signal)).sizeBytes;
}

/**
 * What the server says of a file without sending it: its size and when it last changed
 * (`Last-Modified`, which OBS's download servers set to the build's time; a file's mtime).
 */
export async function fileFacts(url: string, signal?: AbortSignal): Promise<{ sizeBytes?: number; modifiedAt?: Date }> {
  if (url.startsWith('file:')) {
    const facts = await stat(fileURLToPath(url));
    return { sizeBytes: facts.size, modifiedAt: facts.mtime };
  }
  const response = await get(url, 'HEAD', signal);
  if (!response.ok) return {};
  const length = Number(response.headers.get('content-length') ?? NaN);
  const modified = new Date(response.headers.get('last-modified') ?? NaN);
  return {
    ...(Number.isSafeInteger(length) && { sizeBytes: length }),
    ...(!Number.isNaN(modified.getTime()) && { modifiedAt: modified }),
  };
}

/** fetch, with the URL and the real cause in the message ("fetch failed" alone helps nobody). */
async function get(url: string, method: 'GET' | 'HEAD', signal?: AbortSignal): Promise<Response> {
  try {
    return await fetch(url, { method, signal, redirect: 'follow' });
  } catch (error) {
    if (signal?.aborted) throw error;
    const cause = (error as { cause?: { message?: string } }).cause?.message;
    throw new Error(`${method} ${url} failed: ${cause ?? (error as Error).message}`, { cause: error });
  }
}

function isMissing(error: unknown): boolean {
  const code = (error as NodeJS.ErrnoException).code;
  return code === 'ENOENT' || code === 'ENOTDIR';
}
