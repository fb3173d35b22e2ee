import type { ReleaseStatus } from '../../workflows/release-status.js';
import type { DecisionOutcome } from '../../workflows/queries.js';
import type { StartedRelease, WaitOptions } from './types.js';
import type { RevokeOutcome } from './revocations.js';
import { WaitTimeoutError } from './errors.js';
import { ciIdTokenSource, type OidcSource } from './ci-id-token.js';

/** The gateway said no: `status` 401 (no token), 403 (token refused: `message` says which limit), 400, 409 … */
export class GatewayError extends Error {
  override name = 'GatewayError';
  constructor(
    readonly status: number,
    message: string,
    readonly body: Record<string, unknown>,
  ) {
    super(message);
  }
}

/**
 * CI's client when it holds a scoped token instead of Temporal access: the same calls as
 * ImagecastClient, through the release gateway (imagecast-gateway).
 *
 *   const imagecast = new ImagecastGateway({ url: process.env.IMAGECAST_GATEWAY_URL!, token: process.env.IMAGECAST_TOKEN! });
 *   const keyless = new ImagecastGateway({ url: process.env.IMAGECAST_GATEWAY_URL!, oidc: 'github' });
 *   const { releaseId } = await imagecast.startRelease(job);
 *   const status = await imagecast.waitForRelease(releaseId);
 */
export type ImagecastGatewayOptions =
  | { url: string; token: string }
  /**
   * Keyless: the CI's own OIDC ID token (ci-id-token.ts), minted for `audience` (default: the
   * gateway URL's origin, which is what `imagecast trust add --audience` then names).
   */
  | { url: string; oidc: OidcSource; audience?: string };

export class ImagecastGateway {
  private readonly bearer: { get(): Promise<string>; invalidate(): void; renewable: boolean };

  constructor(private readonly options: ImagecastGatewayOptions) {
    if ('oidc' in options) {
      const source = ciIdTokenSource(options.oidc, options.audience ?? new URL(options.url).origin);
      this.bearer = { ...source, renewable: true };
    } else {
      this.bearer = { get: async () => options.token, invalidate: () => undefined, renewable: false };
    }
  }

  startRelease(job: unknown): Promise<StartedRelease> {
    return this.call<StartedRelease>('POST', '/v1/releases', job);
  }

  getRelease(releaseId: string): Promise<ReleaseStatus> {
    return this.call<ReleaseStatus>('GET', `/v1/releases/${encodeURIComponent(releaseId)}`);
  }

  /** A blocked release: retry what blocked it, or go on without the `skip` units (regions). */
  resumeRelease(releaseId: string, options: { skip?: string[] } = {}): Promise<DecisionOutcome> {
    return this.call<DecisionOutcome>('POST', `/v1/releases/${encodeURIComponent(releaseId)}/resume`, options.skip?.length ? { skip: options.skip } : {});
  }

  /** A blocked release: remove what it made and fail. */
  abortRelease(releaseId: string): Promise<DecisionOutcome> {
    return this.call<DecisionOutcome>('POST', `/v1/releases/${encodeURIComponent(releaseId)}/abort`, {});
  }

  /**
   * Revokes a finished release (the token's scope must be `revoke:<cloud>:<account-or-group>`);
   * answers once the revoke has ended or blocked. A refusal is a GatewayError 409 saying why.
   */
  revokeRelease(releaseId: string, options: { reason?: string } = {}): Promise<RevokeOutcome> {
    return this.call<RevokeOutcome>('POST', `/v1/releases/${encodeURIComponent(releaseId)}/revoke`, options.reason ? { reason: options.reason } : {});
  }

  /** Polls until the release has ended (succeeded, failed or cancelled) or is blocked, or `timeoutMs` passed (WaitTimeoutError). */
  async waitForRelease(releaseId: string, options: WaitOptions = {}): Promise<ReleaseStatus> {
    const interval = options.pollIntervalMs ?? 2000;
    const deadline = options.timeoutMs === undefined ? Infinity : Date.now() + options.timeoutMs;
    let last = '';
    for (;;) {
      const status = await this.getRelease(releaseId);
      const seen = JSON.stringify(status.steps.map((s) => s.state));
      if (seen !== last) options.onProgress?.(status);
      last = seen;
      // Blocked: it waits for a person's decision (job resume / abort), which may take days.
      if (status.state === 'succeeded' || status.state === 'failed' || status.state === 'cancelled' || status.state === 'blocked') return status;
      if (Date.now() + interval > deadline) throw new WaitTimeoutError(releaseId, options.timeoutMs!, status.state);
      await new Promise((resolve) => setTimeout(resolve, interval));
    }
  }

  private async call<T>(method: string, path: string, body?: unknown): Promise<T> {
    const send = async () => {
      const response = await fetch(new URL(path, this.options.url), {
        method,
        headers: {
          authorization: `Bearer ${await this.bearer.get()}`,
          ...(body !== undefined && { 'content-type': 'application/json' }),
        },
        ...(body !== undefined && { body: JSON.stringify(body) }),
      });
      return { response, answer: (await response.json().catch(() => ({}))) as Record<string, unknown> };
    };
    let { response, answer } = await send();
    // An ID token refused (expired in transit, a clock skew): one more try with a fresh one.
    // A refusal starts nothing, so asking again cannot start a release twice.
    if ((response.status === 401 || response.status === 403) && this.bearer.renewable) {
      this.bearer.invalidate();
      ({ response, answer } = await send());
    }
    if (!response.ok) {
      throw new GatewayError(response.status, String(answer.error ?? `HTTP ${response.status}`), answer);
    }
    return answer as T;
  }
}
