/**
 * Makes the temporary credentials STS hands out expire, as AWS does, after a lifetime much
 * shorter than STS's 15-minute minimum: the EC2 shim tells it which access keys STS issued
 * (from AssumeRole* answers) and asks it, for each request, whether the signer's key has
 * expired. moto itself never refuses an expired key, so without this a client that keeps
 * signing with old credentials would go unnoticed.
 */
import type { ServerResponse } from 'node:http';
import { randomUUID } from 'node:crypto';

export interface TemporaryCredentials {
  /** Notes the access keys in an STS AssumeRole* answer as issued now. */
  issued(stsAnswer: string): void;
  /** Whether requests signed with this key are refused now (issued by STS longer than the lifetime ago). */
  expired(accessKeyId: string): boolean;
}

export function temporaryCredentials(
  lifetimeMs: number | undefined,
  now = () => Date.now(),
): TemporaryCredentials {
  const issuedAt = new Map<string, number>();
  return {
    issued(stsAnswer) {
      for (const [, key] of stsAnswer.matchAll(/<AccessKeyId>([^<]+)<\/AccessKeyId>/g))
        issuedAt.set(key!, now());
    },
    expired(accessKeyId) {
      const at = issuedAt.get(accessKeyId);
      return lifetimeMs !== undefined && at !== undefined && now() - at > lifetimeMs;
    },
  };
}

/** AWS's answer to a request signed with expired credentials, in the protocol of the service asked. */
export function sendExpiredToken(res: ServerResponse, service: string): void {
  const message = 'The security token included in the request is expired';
  if (service === 'ebs') {
    // EBS direct is REST-JSON: the error type travels in a header.
    const body = JSON.stringify({ message });
    res.writeHead(403, {
      'content-type': 'application/json',
      'x-amzn-errortype': 'ExpiredTokenException',
      'content-length': Buffer.byteLength(body),
    });
    res.end(body);
    return;
  }
  const body =
    service === 's3'
      ? `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>ExpiredToken</Code><Message>${message}</Message><RequestId>${randomUUID()}</RequestId></Error>`
      : // EC2 says RequestExpired for an expired session token; STS and the other Query services ExpiredToken.
        `<?xml version="1.0" encoding="UTF-8"?>\n<Response><Errors><Error><Code>${service === 'ec2' ? 'RequestExpired' : 'ExpiredToken'}</Code><Message>${message}</Message></Error></Errors><RequestID>${randomUUID()}</RequestID></Response>`;
  res.writeHead(400, { 'content-type': 'text/xml;charset=UTF-8', 'content-length': Buffer.byteLength(body) });
  res.end(body);
}
