/**
 * A Temporal codec server: lets the Web UI and `temporal --codec-endpoint` show (and send)
 * encrypted payloads in clear, while the keys stay with us and never reach Temporal.
 *
 * Protocol: `POST /encode` and `POST /decode` (also under a namespace segment,
 * `/{namespace}/decode`, which the CLI's endpoint template produces) take and return
 * `{"payloads":[{"metadata":{"k":"<base64>"},"data":"<base64>"}]}`, the proto3 JSON form
 * of Payloads, where every bytes field is base64.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Payload, PayloadCodec } from '@temporalio/common';
import { z } from 'zod';

export interface CodecServerOptions {
  codec: PayloadCodec;
  /** Omitted: a free port chosen by the kernel. */
  port?: number;
  host?: string;
  /** When set, every POST needs `Authorization: Bearer <authToken>`. */
  authToken?: string;
  /** Browser origins (e.g. the Web UI's `http://localhost:8233`) allowed to call us. */
  corsOrigins: string[];
  maxBodyBytes?: number;
}

export interface CodecServer {
  url: string;
  stop(): Promise<void>;
}

const DEFAULT_MAX_BODY_BYTES = 8 * 1024 * 1024;
const ROUTE = /^(?:\/[^/]+)?\/(encode|decode)$/;

const bodySchema = z.object({
  payloads: z.array(
    z.object({
      metadata: z.record(z.string(), z.string()).nullish(),
      data: z.string().nullish(),
    }),
  ),
});
type JsonPayload = z.infer<typeof bodySchema>['payloads'][number];

/** An answer that is not 200; its message is sent to the caller, so it must hold no secrets. */
class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

const fromJson = ({ metadata, data }: JsonPayload): Payload => ({
  metadata: Object.fromEntries(Object.entries(metadata ?? {}).map(([k, v]) => [k, Buffer.from(v, 'base64')])),
  data: Buffer.from(data ?? '', 'base64'),
});

const toJson = ({ metadata, data }: Payload): JsonPayload => ({
  metadata: Object.fromEntries(
    Object.entries(metadata ?? {}).map(([k, v]) => [k, Buffer.from(v).toString('base64')]),
  ),
  data: Buffer.from(data ?? new Uint8Array()).toString('base64'),
});

/** Hashing first makes both sides the same length, so the compare itself leaks nothing. */
function sameSecret(given: string, expected: string): boolean {
  const digest = (s: string) => createHash('sha256').update(s).digest();
  return timingSafeEqual(digest(given), digest(expected));
}

async function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  const tooLarge = () => new HttpError(413, `request body is larger than ${limit} bytes`);
  if (Number(req.headers['content-length'] ?? 0) > limit) throw tooLarge();
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) throw tooLarge();
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

function parseBody(raw: Buffer): JsonPayload[] {
  let json: unknown;
  try {
    json = JSON.parse(raw.toString('utf8'));
  } catch {
    throw new HttpError(400, 'request body is not valid JSON');
  }
  const parsed = bodySchema.safeParse(json);
  if (!parsed.success) {
    const why = parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ');
    throw new HttpError(400, `request body is not {"payloads": [...]}: ${why}`);
  }
  return parsed.data.payloads;
}

function send(res: ServerResponse, status: number, body?: unknown): void {
  if (body === undefined) {
    res.writeHead(status).end();
    return;
  }
  res.writeHead(status, { 'Content-Type': 'application/json' }).end(JSON.stringify(body));
}

/** Starts the server; resolves once it listens. */
export async function startCodecServer(options: CodecServerOptions): Promise<CodecServer> {
  const { codec, port = 0, host = '127.0.0.1', authToken, corsOrigins } = options;
  const limit = options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  const allowed = new Set(corsOrigins);

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const origin = req.headers.origin;
    res.setHeader('Vary', 'Origin');
    if (origin !== undefined) {
      if (!allowed.has(origin)) throw new HttpError(403, 'origin not allowed');
      res.setHeader('Access-Control-Allow-Origin', origin);
      res.setHeader('Access-Control-Allow-Methods', 'POST, OPTIONS');
      res.setHeader('Access-Control-Allow-Headers', 'Content-Type, Authorization, X-Namespace');
      res.setHeader('Access-Control-Allow-Credentials', 'true');
    }
    const route = ROUTE.exec(new URL(req.url ?? '/', 'http://codec').pathname)?.[1];
    if (!route) throw new HttpError(404, 'no such endpoint: use POST /encode or /decode');
    // Preflights carry no Authorization header by design, so they are answered before auth.
    if (req.method === 'OPTIONS') return send(res, 204);
    if (req.method !== 'POST') {
      res.setHeader('Allow', 'POST, OPTIONS');
      throw new HttpError(405, `use POST /${route}`);
    }
    if (authToken !== undefined && !sameSecret(req.headers.authorization ?? '', `Bearer ${authToken}`)) {
      res.setHeader('WWW-Authenticate', 'Bearer');
      throw new HttpError(401, 'missing or wrong bearer token');
    }
    const payloads = parseBody(await readBody(req, limit)).map(fromJson);
    let result: Payload[];
    try {
      result = route === 'encode' ? await codec.encode(payloads) : await codec.decode(payloads);
    } catch (error) {
      // Our codec's errors name key ids and reasons, never keys or payload contents.
      throw new HttpError(422, `cannot ${route} payloads: ${(error as Error).message}`);
    }
    send(res, 200, { payloads: result.map(toJson) });
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      const status = error instanceof HttpError ? error.status : 500;
      const message = error instanceof HttpError ? error.message : 'internal error';
      // The rest of a rejected upload is not read: close the connection instead of draining it.
      if (status === 413) res.setHeader('Connection', 'close');
      if (!res.headersSent) send(res, status, { error: message });
      else res.destroy();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port: bound } = server.address() as AddressInfo;
  const hostInUrl = host.includes(':') ? `[${host}]` : host;
  return {
    url: `http://${hostInUrl}:${bound}`,
    stop: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        // fetch keeps connections alive; without this, close() waits for them to time out.
        server.closeAllConnections();
      }),
  };
}
