/**
 * A pass-through proxy in front of fake-gcs-server that answers the one call it gets wrong:
 * the status query of a resumable upload (`PUT <session URI>` with `Content-Range: bytes *\/*`
 * and no body). Cloud Storage documents the answer
 * (https://cloud.google.com/storage/docs/performing-resumable-uploads#status-check):
 * `308 Resume Incomplete` with `Range: bytes=0-N` (no Range when nothing is persisted) for a
 * session still open, `200`/`201` with the object for a finished one, `404` for one that
 * is gone. fake-gcs-server v1.55.1 instead finalizes the session with what it has and
 * answers 200, so no upload could ever be resumed against it.
 *
 * The shim watches the chunks it forwards to know what each session holds, and, as Cloud
 * Storage does, refuses (400) a chunk that does not start where the session stands or an
 * intermediate chunk that is not a multiple of 256 KiB (fake-gcs-server appends any bytes).
 * A `DELETE` of the session URI (cancel) makes the session gone (`404`), as documented.
 * Intermediate chunks are kept by the shim (in a temp file per session) and answered `308`
 * here; the last chunk sends the whole object upstream in one PUT. fake-gcs-server copies a
 * session's whole buffer on every chunk it appends (quadratic: 832 MB took 48 s), which made
 * the emulator, not the upload, what every large upload measured.
 * Left out: everything else is forwarded untouched; sessions it did not see created are
 * unknown to it (it answers 404 for them).
 */
import { appendFileSync, createReadStream, mkdtempSync, rmSync } from 'node:fs';
import { createServer, request as httpRequest, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';

const CHUNK_MULTIPLE = 256 * 1024;

interface Session {
  /** Bytes the session holds (in `file`, until the last chunk sends them upstream). */
  received: number;
  file: string;
  /** The finished object's JSON, once the last chunk went through. */
  finished?: Buffer;
}

export interface GcsResumeShim {
  endpoint: string;
  /** Status queries answered (a test can see a resume asked). */
  readonly statusQueries: number;
  /** Resumable upload sessions started (a test can see that nothing was uploaded). */
  readonly sessionsStarted: number;
  stop(): Promise<void>;
}

export async function startGcsResumeShim(options: { upstream: string }): Promise<GcsResumeShim> {
  const upstream = new URL(options.upstream);
  const sessions = new Map<string, Session>();
  const held = mkdtempSync(join(tmpdir(), 'imagecast-gcs-shim-'));
  let statusQueries = 0;
  let sessionCount = 0;

  const server = createServer((req, res) => {
    void handle(req, res).catch((error: unknown) => {
      if (!res.headersSent) res.writeHead(502, { 'content-type': 'text/plain' });
      res.end(`gcs-resume-shim: ${(error as Error).message}`);
    });
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const body = await readAll(req);
    const url = new URL(req.url ?? '/', 'http://shim');
    const uploadId = url.searchParams.get('upload_id');
    const session = uploadId ? sessions.get(uploadId) : undefined;

    if (uploadId && req.method === 'PUT') {
      const range = parseContentRange(req.headers['content-range']);
      if (!session) return reply(res, 404, 'no such upload session');
      if (range === 'status') {
        statusQueries++;
        if (session.finished) return reply(res, 200, session.finished, 'application/json');
        const headers: Record<string, string> = session.received > 0 ? { range: `bytes=0-${session.received - 1}` } : {};
        return reply(res, 308, '', 'text/plain', headers);
      }
      if (session.finished) return reply(res, 200, session.finished, 'application/json');
      if (range) {
        if (range.start !== session.received) {
          return reply(res, 400, `chunk starts at ${range.start}, the session holds ${session.received} bytes`);
        }
        // `bytes N-*/*` is the SDK's one-request upload of the rest: the body's end is the object's end.
        const last = range.rest || (range.total !== undefined && range.start + body.length >= range.total);
        if (!last && body.length % CHUNK_MULTIPLE !== 0) {
          return reply(res, 400, `intermediate chunk of ${body.length} bytes is not a multiple of 256 KiB`);
        }
        appendFileSync(session.file, body);
        session.received += body.length;
        if (!last) return reply(res, 308, '', 'text/plain', { range: `bytes=0-${session.received - 1}` });
        // The whole object upstream in one chunk: fake-gcs-server stores it with one copy.
        const total = session.received;
        const answer = await forward(req, createReadStream(session.file), total, total > 0 ? `bytes 0-${total - 1}/${total}` : 'bytes */0');
        if (answer.status < 300) {
          session.finished = answer.body;
          rmSync(session.file, { force: true });
        }
        res.writeHead(answer.status, answer.headers);
        return void res.end(answer.body);
      }
    }
    if (uploadId && req.method === 'DELETE' && session) {
      rmSync(session.file, { force: true });
      sessions.delete(uploadId);
    }

    const answer = await forward(req, body, body.length);
    if (req.method === 'POST' && url.searchParams.get('uploadType') === 'resumable' && answer.headers.location) {
      const id = new URL(String(answer.headers.location)).searchParams.get('upload_id');
      if (id) sessions.set(id, { received: 0, file: join(held, `session-${++sessionCount}`) });
    }
    res.writeHead(answer.status, answer.headers);
    res.end(answer.body);
  }

  function forward(req: IncomingMessage, body: Buffer | Readable, length: number, contentRange?: string) {
    return new Promise<{ status: number; headers: IncomingMessage['headers']; body: Buffer }>((resolve, reject) => {
      const out = httpRequest(
        {
          host: upstream.hostname,
          port: upstream.port,
          method: req.method,
          path: req.url,
          // The Host stays the shim's: fake-gcs-server builds session URIs from it.
          headers: withoutChunking({
            ...req.headers,
            'content-length': String(length),
            ...(contentRange && { 'content-range': contentRange }),
          }),
        },
        (answer) => {
          void readAll(answer).then(
            (data) => {
              const headers = withoutChunking({ ...answer.headers, 'content-length': String(data.length) });
              resolve({ status: answer.statusCode ?? 502, headers, body: data });
            },
            reject,
          );
        },
      );
      out.on('error', reject);
      if (Buffer.isBuffer(body)) out.end(body);
      else body.on('error', reject).pipe(out);
    });
  }

  // Node's 5 s default races a client reusing an idle connection (after a test's slow check,
  // say) into ECONNRESET; Cloud Storage's front ends keep idle connections far longer.
  server.keepAliveTimeout = 120_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    get statusQueries() {
      return statusQueries;
    },
    get sessionsStarted() {
      return sessionCount;
    },
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => {
          rmSync(held, { recursive: true, force: true });
          resolve();
        });
      }),
  };
}

/** `bytes *\/*` → 'status'; `bytes A-B/T`, `bytes A-B/*` or `bytes A-*\/*` → the range; anything else undefined. */
function parseContentRange(header: string | undefined): 'status' | { start: number; total?: number; rest: boolean } | undefined {
  if (!header) return undefined;
  if (/^bytes \*\/\*$/.test(header.trim())) return 'status';
  const match = /^bytes (\d+)-(\d+|\*)\/(\d+|\*)$/.exec(header.trim());
  if (!match) return undefined;
  return { start: Number(match[1]), rest: match[2] === '*', ...(match[3] !== '*' && { total: Number(match[3]) }) };
}

/** The body is forwarded whole, with its length: no chunked transfer encoding. */
function withoutChunking(headers: IncomingMessage['headers']): IncomingMessage['headers'] {
  const out = { ...headers };
  delete out['transfer-encoding'];
  return out;
}

function reply(
  res: ServerResponse,
  status: number,
  body: string | Buffer,
  contentType = 'text/plain',
  headers: Record<string, string> = {},
): void {
  res.writeHead(status, { 'content-type': contentType, ...headers });
  res.end(body);
}

function readAll(stream: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    stream.on('data', (chunk: Buffer) => chunks.push(chunk));
    stream.on('end', () => resolve(Buffer.concat(chunks)));
    stream.on('error', reject);
  });
}
