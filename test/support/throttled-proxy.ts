// A TCP relay on loopback in front of a local server (moto), whose answers can be slowed to a
// given rate: a worker-crash test needs a download slow enough to kill the worker mid-upload,
// and moto itself serves as fast as it can.
import { connect, createServer, type Socket } from 'node:net';

export interface ThrottledProxy {
  /** `http://127.0.0.1:PORT`: use it wherever the target's endpoint would go. */
  endpoint: string;
  /** Bytes per second from the target to the client; undefined: as fast as it comes. */
  setRate(bytesPerSecond: number | undefined): void;
  stop(): Promise<void>;
}

export async function startThrottledProxy(target: string): Promise<ThrottledProxy> {
  const { hostname, port } = new URL(target);
  let rate: number | undefined;
  const sockets = new Set<Socket>();
  const server = createServer((client) => {
    const upstream = connect(Number(port), hostname);
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
      s.on('error', () => (s === client ? upstream : client).destroy());
    }
    client.pipe(upstream);
    upstream.on('data', (chunk: Buffer) => {
      client.write(chunk);
      if (!rate) return;
      // Hold the next chunk until this one's share of the rate has passed.
      upstream.pause();
      setTimeout(() => upstream.resume(), (1000 * chunk.length) / rate);
    });
    upstream.on('end', () => client.end());
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (!address || typeof address === 'string') throw new Error('the proxy has no TCP address');
  return {
    endpoint: `http://127.0.0.1:${address.port}`,
    setRate: (bytesPerSecond) => void (rate = bytesPerSecond),
    async stop() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
