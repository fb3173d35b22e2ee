import { Agent } from 'node:https';
import type { PipelinePolicy } from '@azure/core-rest-pipeline';

/**
 * A pipeline policy that makes a client trust one extra CA for its HTTPS calls: a local ARM
 * fake's self-signed certificate (the SDK sends bearer tokens over HTTPS only, and
 * NODE_EXTRA_CA_CERTS is read once at process start, too late for a test that makes the
 * certificate). Only the dev stack and tests use it; against Azure the system CAs apply.
 */
export function trustCaPolicy(caPem: string): PipelinePolicy {
  const agent = new Agent({ ca: caPem, keepAlive: true });
  return {
    name: 'imagecastTrustCa',
    sendRequest(request, next) {
      request.agent = agent;
      return next(request);
    },
  };
}
