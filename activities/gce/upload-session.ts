import { setTimeout as sleep } from 'node:timers/promises';
import type { Storage } from '@google-cloud/storage';

/**
 * Cloud Storage's resumable upload protocol, spoken directly through the SDK's auth client:
 * the SDK's upload stream emits a failed chunk's error after its `finish` with no one left
 * to hear it (an uncaught exception that would take the worker down), and retries on its
 * own terms. A chunk here is one PUT whose outcome is one promise.
 * https://cloud.google.com/storage/docs/performing-resumable-uploads
 */

export type SessionClient = Storage['authClient'];

export interface SessionStatus {
  state: 'open' | 'finished' | 'gone';
  /** Bytes the session holds (open), or the object's size (finished). */
  bytes: number;
}

/** Tries of one chunk on a server fault, rate limit or lost connection, before giving up. */
const CHUNK_TRIES = 5;
const FIRST_BACKOFF_MS = 500;

/**
 * The documented status query (`PUT` with `Content-Range: bytes *\/*`): 308 with the Range
 * held, 200/201 once finished, 404/410 when gone.
 */
export async function querySession(client: SessionClient, sessionUri: string): Promise<SessionStatus> {
  const response = await client.request<{ size?: string }>({
    url: sessionUri,
    method: 'PUT',
    headers: { 'Content-Length': '0', 'Content-Range': 'bytes */*' },
    validateStatus: () => true,
  });
  if (response.status === 308) return { state: 'open', bytes: heldBytes(response.headers) };
  if (response.status === 200 || response.status === 201) {
    return { state: 'finished', bytes: Number(response.data?.size ?? 0) };
  }
  if (response.status === 404 || response.status === 410) return { state: 'gone', bytes: 0 };
  throw new Error(`the upload session's status query answered HTTP ${response.status}`);
}

/**
 * Sends `data` as the session's bytes from `offset` (`last`: the object's end), and resolves
 * once the session holds all of it. The server may keep less than a chunk (it says so in
 * Range): the rest goes again. Faults are retried from what the session says it holds.
 */
export async function putChunk(
  client: SessionClient,
  sessionUri: string,
  offset: number,
  data: Buffer,
  last: boolean,
): Promise<void> {
  const end = offset + data.length;
  let held = offset;
  for (let fault = 0; ;) {
    let outcome: { status: number; held?: number } | { error: unknown };
    try {
      const response = await client.request({
        url: sessionUri,
        method: 'PUT',
        headers: {
          'Content-Type': 'application/octet-stream',
          // A last chunk of 0 bytes has no range to say: `bytes */total`.
          'Content-Range': held === end ? `bytes */${end}` : `bytes ${held}-${end - 1}/${last ? end : '*'}`,
        },
        data: data.subarray(held - offset),
        validateStatus: () => true,
      });
      outcome = {
        status: response.status,
        ...(response.status === 308 && { held: heldBytes(response.headers) }),
      };
    } catch (error) {
      outcome = { error };
    }
    if ('status' in outcome) {
      if (last && (outcome.status === 200 || outcome.status === 201)) return;
      if (
        outcome.status === 308 &&
        outcome.held !== undefined &&
        outcome.held >= held &&
        outcome.held <= end
      ) {
        if (!last && outcome.held === end) return;
        held = outcome.held; // kept a part: send the rest
        continue;
      }
      if (!retryable(outcome.status)) {
        throw new Error(
          `the upload session answered HTTP ${outcome.status} to the chunk at ${held}-${end - 1}`,
        );
      }
    }
    if (++fault >= CHUNK_TRIES) {
      const why = 'error' in outcome ? (outcome.error as Error).message : `HTTP ${outcome.status}`;
      throw new Error(`the chunk at ${held}-${end - 1} failed ${CHUNK_TRIES} times (last: ${why})`);
    }
    await sleep(FIRST_BACKOFF_MS * 2 ** (fault - 1));
    const status = await querySession(client, sessionUri);
    if ((status.state === 'finished' && last) || (status.state === 'open' && !last && status.bytes === end))
      return;
    if (status.state !== 'open' || status.bytes < offset || status.bytes > end) {
      throw new Error(
        `the upload session is ${status.state} at ${status.bytes} bytes, the chunk was ${offset}-${end - 1}`,
      );
    }
    held = status.bytes;
  }
}

function retryable(status: number): boolean {
  return status === 408 || status === 429 || status >= 500;
}

/** What a 308's `Range: bytes=0-N` says the session holds (none: 0). */
function heldBytes(headers: unknown): number {
  const range = headerOf(headers, 'range');
  return range ? Number(range.split('-')[1]) + 1 : 0;
}

/** A response header from gaxios, whose `headers` is a Headers-like object (v7) or a plain record. */
export function headerOf(headers: unknown, name: string): string | undefined {
  if (!headers || typeof headers !== 'object') return undefined;
  // Not `instanceof Headers`: gaxios's Headers come from its own fetch, not this realm's global.
  const get = (headers as { get?: unknown }).get;
  if (typeof get === 'function') return (get.call(headers, name) as string | null) ?? undefined;
  const key = Object.keys(headers).find((k) => k.toLowerCase() === name);
  const value = key === undefined ? undefined : (headers as Record<string, unknown>)[key];
  return value === undefined ? undefined : String(value);
}
