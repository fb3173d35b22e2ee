import { Agent, createServer, request, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * An HTTP reverse proxy on loopback that makes every request take at least `delayMs` longer:
 * the request (headers and body) goes upstream at once, and the upstream's answer is held
 * `delayMs` before it is passed on. That is a round trip to a distant service as a client sees
 * it (a request cannot finish in less than the RTT), so benches can ask how many requests in
 * flight a writer needs to fill a link of that latency. Paths, headers and bodies pass
 * through unchanged, so signed requests (Azure Shared Key signs the path, not the host) stay
 * valid. Not a fake of any API; it adds no bandwidth limit and no jitter.
 */
export interface LatencyProxy {
  /** `http://127.0.0.1:PORT`: the upstream's origin as clients should use it. */
  origin: string;
  /** Requests answered so far. */
  readonly requests: number;
  stop(): Promise<void>;
}

export async function startLatencyProxy(options: {
  upstream: string;
  delayMs: number;
}): Promise<LatencyProxy> {
  const upstream = new URL(options.upstream);
  const agent = new Agent({ keepAlive: true });
  let requests = 0;

  const forward = (req: IncomingMessage, res: ServerResponse) => {
    const out = request(
      {
        host: upstream.hostname,
        port: upstream.port,
        method: req.method,
        path: req.url,
        headers: req.headers,
        agent,
      },
      (answer) => {
        setTimeout(() => {
          requests++;
          res.writeHead(answer.statusCode ?? 502, answer.statusMessage, answer.headers);
          answer.pipe(res);
        }, options.delayMs);
      },
    );
    out.on('error', (error) => {
      if (!res.headersSent) res.writeHead(502, { 'content-type': 'text/plain' });
      res.end(`latency proxy: ${error.message}`);
    });
    req.pipe(out);
  };

  const server = createServer(forward);
  server.keepAliveTimeout = 30_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const { port } = server.address() as AddressInfo;
  return {
    origin: `http://127.0.0.1:${port}`,
    get requests() {
      return requests;
    },
    async stop() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      agent.destroy();
    },
  };
}
