// A real HTTP receiver on loopback for the webhooks Imagecast posts (release and image-list
// notifications): it keeps each request's raw body and signature headers, so a test checks
// the signature with verifyWebhookSignature as a subscriber would, and answers 204.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ReceivedWebhook {
  /** The body as sent (what the signature covers). */
  body: string;
  event: string;
  timestamp: string;
  signature: string;
}

export interface WebhookReceiver {
  /** Every webhook received so far, oldest first. */
  received: ReceivedWebhook[];
  /** The URL of `path` (e.g. `/hooks/release`) on this receiver. */
  url(path: string): string;
  close(): Promise<void>;
}

export async function startWebhookReceiver(): Promise<WebhookReceiver> {
  const received: ReceivedWebhook[] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (d: Buffer) => (body += d));
    req.on('end', () => {
      received.push({
        body,
        event: String(req.headers['x-imagecast-event']),
        timestamp: String(req.headers['x-imagecast-timestamp']),
        signature: String(req.headers['x-imagecast-signature']),
      });
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    received,
    url: (path) => `http://127.0.0.1:${port}${path}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
