import { createServer, type IncomingMessage, type RequestListener, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import type pg from 'pg';
import { formatIssues, parseJob } from '../schemas/job/index.js';
import { TokenRefused } from '../activities/accounts/ci-tokens.js';
import type { IdTokenVerifier } from '../activities/accounts/oidc/id-token-verifier.js';
import { BearerAuthorization, type BearerAccess } from './bearer-authorization.js';
import {
  DecisionRefusedError,
  InvalidJobError,
  ReleaseAlreadyRunningError,
  ReleaseEndedError,
  ReleaseStartRefusedError,
  RevokeRefusedError,
  type ImagecastClient,
} from '../client/sdk/index.js';
import { CatalogRevocations } from '../activities/common/catalog/revocations.js';
import { jobTargets } from './job-targets.js';
import { clientAddress, NO_TRUSTED_PROXIES, type TrustedProxies } from './client-address.js';
import { PublicCatalog, type SignedListsCarrying } from '../activities/common/catalog/public-catalog.js';
import { isCatalogRequest, serveCatalog } from './catalog-routes.js';
import { signedListsCarrying } from '../activities/common/imagelist/published-lists.js';
import { imageListRequest, serveImageList } from './imagelist-routes.js';

export interface ReleaseGatewayOptions {
  pool: pg.Pool;
  /** Starts the releases (holds the Temporal connection and payload keys CI never gets). */
  client: ImagecastClient;
  host?: string;
  port?: number;
  /** Job documents are small; anything bigger is refused before it is read whole. */
  maxBodyBytes?: number;
  /** Serve HTTPS with this certificate (PEM, chain first) and key; plain HTTP without. */
  tls?: { cert: string | Buffer; key: string | Buffer };
  /** Proxies whose X-Forwarded-For names the client (see client-address.ts); default none. */
  trustedProxies?: TrustedProxies;
  /** Checks CI's OIDC ID tokens (tests pass one with a short JWKS cooldown); default settings otherwise. */
  idTokenVerifier?: IdTokenVerifier;
  /** The signed image lists carrying a file, for the public catalog; default: the published lists in the database. */
  signedLists?: SignedListsCarrying;
}

export interface ReleaseGateway {
  url: string;
  stop(): Promise<void>;
}

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly extra: Record<string, unknown> = {},
  ) {
    super(message);
  }
}

/**
 * The one door CI uses: `POST /v1/releases` with a scoped token or the CI's own OIDC ID token
 * (Authorization: Bearer …, see bearer-authorization.ts) and a job document. The token is checked — scope, expiry, revocation, use count, image
 * prefix, source address — before anything starts, and every use is audited. CI holds no
 * cloud credentials and no Temporal access; a leaked token can start only what its scope
 * allows, until it expires. `GET /v1/releases/ID` reads a release the token's scope covers.
 * `GET /catalog` and `/catalog.json` serve the public image catalog to anyone (catalog-routes.ts),
 * and `/imagelists/<uuid>` each published signed image list (imagelist-routes.ts).
 */
export async function startReleaseGateway(options: ReleaseGatewayOptions): Promise<ReleaseGateway> {
  const bearers = new BearerAuthorization(options.pool, options.idTokenVerifier);
  const publicCatalog = new PublicCatalog(options.pool, options.signedLists ?? signedListsCarrying(options.pool));
  const maxBody = options.maxBodyBytes ?? 1024 * 1024;
  const proxies = options.trustedProxies ?? NO_TRUSTED_PROXIES;
  const sourceAddress = (req: IncomingMessage) =>
    clientAddress(req.socket.remoteAddress, req.headers['x-forwarded-for'], proxies);

  async function startRelease(req: IncomingMessage): Promise<[number, unknown]> {
    const token = bearer(req);
    const parsed = parseJob(await readJson(req, maxBody));
    if (!parsed.ok) {
      throw new HttpError(400, `invalid job document:\n${formatIssues(parsed.issues)}`, { issues: parsed.issues });
    }
    const request = {
      cloud: parsed.job.cloud,
      targets: jobTargets(parsed.job),
      imageName: parsed.job.cloud_image_name,
      sourceIp: sourceAddress(req),
    };
    const allowed = await bearers.authorizeStart(token, request);
    try {
      const started = await options.client.startRelease(parsed.job);
      await allowed.recordUse(started.releaseId);
      return [201, started];
    } catch (error) {
      if (error instanceof ReleaseAlreadyRunningError) throw new HttpError(409, error.message, { releaseId: error.releaseId });
      if (error instanceof InvalidJobError) throw new HttpError(400, error.message, { issues: error.issues });
      // Temporal's own reason (a payload over its size limit, …), not "Failed to start Workflow".
      if (error instanceof ReleaseStartRefusedError) {
        const status = error.grpcCode === 'INVALID_ARGUMENT' ? 400 : 503;
        throw new HttpError(status, error.message, { reason: error.reason, grpcCode: error.grpcCode });
      }
      throw error;
    }
  }

  /** The release, if the bearer's scopes cover it; else the same 404 as for a missing one. */
  async function releaseInScope(releaseId: string, access: BearerAccess) {
    const status = await options.client.getRelease(releaseId).catch(() => {
      throw new HttpError(404, `no release ${releaseId}`);
    });
    const accounts = status.account.split(',');
    if (!access.scopes.some((scope) => status.cloud === scope.cloud && accounts.every((a) => scope.members.has(a)))) {
      // Same answer as a missing release: a token does not learn what exists outside its scope.
      throw new HttpError(404, `no release ${releaseId}`);
    }
    return status;
  }

  async function readRelease(req: IncomingMessage, releaseId: string): Promise<[number, unknown]> {
    return [200, await releaseInScope(releaseId, await bearers.access(bearer(req), sourceAddress(req)))];
  }

  /** `POST /v1/releases/ID/resume` ({"skip": [unit…]} optional) or `/abort`: a blocked release's decision. */
  async function decide(req: IncomingMessage, releaseId: string, decision: 'resume' | 'abort'): Promise<[number, unknown]> {
    const access = await bearers.access(bearer(req), sourceAddress(req));
    const body = await readJson(req, maxBody, true);
    const skip = decisionSkip(body, decision);
    await releaseInScope(releaseId, access);
    const by = `${access.actor} via gateway`;
    const action = `release.${decision}`;
    try {
      const outcome = decision === 'resume'
        ? await options.client.resumeRelease(releaseId, { skip, by })
        : await options.client.abortRelease(releaseId, { by });
      await bearers.recordDecision(access, action, releaseId, 'ok', { ...(skip.length > 0 && { skip }), state: outcome.state });
      return [200, outcome];
    } catch (error) {
      if (error instanceof ReleaseEndedError || error instanceof DecisionRefusedError) {
        await bearers.recordDecision(access, action, releaseId, 'refused', { reason: error.message });
        throw new HttpError(409, error.message);
      }
      await bearers.recordDecision(access, action, releaseId, 'failed', { reason: (error as Error).message });
      throw error;
    }
  }

  const revocations = new CatalogRevocations(options.pool);

  /**
   * `POST /v1/releases/ID/revoke` ({"reason": "…"} optional): needs a token of scope
   * `revoke:<cloud>:<account-or-group>` covering every account of the release (the catalog
   * says which, even after Temporal has forgotten the release). Answers once the revoke has
   * ended or blocked; allowed or refused, it is audited.
   */
  async function revoke(req: IncomingMessage, releaseId: string): Promise<[number, unknown]> {
    const access = await bearers.access(bearer(req), sourceAddress(req));
    const reason = revokeReason(await readJson(req, maxBody, true));
    const images = await revocations.imagesOf(releaseId);
    const target = images.length
      ? { cloud: images[0]!.cloud, accounts: [...new Set(images.map((i) => i.account))] }
      : await releaseInScope(releaseId, access).then((s) => ({ cloud: s.cloud as string, accounts: s.account.split(',') }));
    const covers = (scope: (typeof access.scopes)[number]) => scope.cloud === target.cloud && target.accounts.every((a) => scope.members.has(a));
    if (!access.scopes.some(covers)) throw new HttpError(404, `no release ${releaseId}`);
    const action = 'release.revoke';
    if (!access.scopes.some((scope) => scope.action === 'revoke' && covers(scope))) {
      const why = `revoking needs a token of scope revoke:${target.cloud}:<account-or-group> covering ${target.accounts.join(', ')}${access.scopes[0]?.scope ? ` (this one is ${access.scopes[0].scope})` : ''}`;
      await bearers.recordDecision(access, action, releaseId, 'refused', { reason: why });
      throw new TokenRefused(why);
    }
    if (!(await bearers.spend(access))) {
      await bearers.recordDecision(access, action, releaseId, 'refused', { reason: 'token used up' });
      throw new TokenRefused(`token ${access.tokenId} has no uses left`);
    }
    try {
      const outcome = await options.client.revokeRelease(releaseId, { by: `${access.actor} via gateway`, ...(reason && { reason }) });
      await bearers.recordDecision(access, action, releaseId, 'ok', { revokeId: outcome.revokeId, state: outcome.status.state, ...(reason && { why: reason }) });
      return [200, outcome];
    } catch (error) {
      const refused = error instanceof RevokeRefusedError;
      await bearers.recordDecision(access, action, releaseId, refused ? 'refused' : 'failed', { reason: (error as Error).message });
      if (refused) throw new HttpError(409, error.message, { reason: error.reason });
      throw error;
    }
  }

  const handle: RequestListener = (req, res) => {
    const path = (req.url ?? '/').split('?')[0]!;
    // The public catalog needs no token: it shows only what anybody may launch.
    if (isCatalogRequest(req.method, path)) {
      serveCatalog(publicCatalog, req, res).catch((error: Error) => {
        // The operator's log gets the reason; the public gets no database details.
        console.error(`imagecast-gateway: the catalog cannot be read: ${error.message}`);
        send(res, 503, { error: 'the catalog cannot be read now; try again later' });
      });
      return;
    }
    const listId = imageListRequest(req.method, path);
    if (listId !== undefined) {
      serveImageList(options.pool, listId, req, res).catch((error: Error) => {
        console.error(`imagecast-gateway: image list ${listId} cannot be read: ${error.message}`);
        send(res, 503, { error: 'the image list cannot be read now; try again later' });
      });
      return;
    }
    const releasePath = /^\/v1\/releases\/([^/]+)$/.exec(path);
    const decisionPath = /^\/v1\/releases\/([^/]+)\/(resume|abort)$/.exec(path);
    const revokePath = /^\/v1\/releases\/([^/]+)\/revoke$/.exec(path);
    const handled =
      req.method === 'POST' && path === '/v1/releases'
        ? startRelease(req)
        : req.method === 'GET' && releasePath
          ? readRelease(req, decodeURIComponent(releasePath[1]!))
          : req.method === 'POST' && decisionPath
            ? decide(req, decodeURIComponent(decisionPath[1]!), decisionPath[2] as 'resume' | 'abort')
            : req.method === 'POST' && revokePath
              ? revoke(req, decodeURIComponent(revokePath[1]!))
              : Promise.reject(new HttpError(404, `no route ${req.method} ${path}`));
    handled.then(
      ([status, body]) => send(res, status, body),
      (error: unknown) => {
        if (error instanceof TokenRefused) return send(res, 403, { error: error.message });
        if (error instanceof HttpError) return send(res, error.status, { error: error.message, ...error.extra });
        send(res, 500, { error: `gateway error: ${(error as Error).message}` });
      },
    );
  };
  const server = options.tls ? createHttpsServer({ ...options.tls }, handle) : createServer(handle);
  await new Promise<void>((resolve) => server.listen(options.port ?? 0, options.host ?? '127.0.0.1', resolve));
  const { address, port } = server.address() as AddressInfo;
  return {
    url: `${options.tls ? 'https' : 'http'}://${address.includes(':') ? `[${address}]` : address}:${port}`,
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function bearer(req: IncomingMessage): string {
  const match = /^Bearer (\S+)$/.exec(req.headers.authorization ?? '');
  if (!match) throw new HttpError(401, 'missing token: send Authorization: Bearer <token> (imagecast token create, or the CI\'s OIDC ID token: imagecast job add --oidc)');
  return match[1]!;
}

/** `skip` of a resume body: unit names (regions) to leave out; abort takes none. */
function decisionSkip(body: unknown, decision: 'resume' | 'abort'): string[] {
  if (body === undefined) return [];
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new HttpError(400, `$: expected a JSON object such as {"skip": ["eu-west-1"]}, got ${JSON.stringify(body)}`);
  const { skip, ...rest } = body as Record<string, unknown>;
  const unknown = Object.keys(rest);
  if (unknown.length > 0) throw new HttpError(400, `$.${unknown[0]}: not a field of a ${decision} decision (${decision === 'resume' ? 'only "skip"' : 'it takes none'})`);
  if (skip === undefined) return [];
  if (decision === 'abort') throw new HttpError(400, '$.skip: only a resume skips units; abort removes what the release made');
  if (!Array.isArray(skip) || skip.length === 0 || !skip.every((u) => typeof u === 'string' && u.length > 0))
    throw new HttpError(400, `$.skip: expected a non-empty list of unit names (regions) such as ["eu-west-1"], got ${JSON.stringify(skip)}`);
  return skip as string[];
}

/** `reason` of a revoke body: why, for the catalog and the audit log. */
function revokeReason(body: unknown): string | undefined {
  if (body === undefined) return undefined;
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new HttpError(400, `$: expected a JSON object such as {"reason": "kernel regression"}, got ${JSON.stringify(body)}`);
  const { reason, ...rest } = body as Record<string, unknown>;
  const unknown = Object.keys(rest);
  if (unknown.length > 0) throw new HttpError(400, `$.${unknown[0]}: not a field of a revoke (only "reason")`);
  if (reason === undefined) return undefined;
  if (typeof reason !== 'string' || reason.length > 500) throw new HttpError(400, '$.reason: expected text of at most 500 characters');
  return reason;
}

async function readJson(req: IncomingMessage, maxBytes: number, optional = false): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > maxBytes) throw new HttpError(413, `the job document is larger than ${maxBytes} bytes`);
    chunks.push(chunk as Buffer);
  }
  if (optional && size === 0) return undefined;
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch (error) {
    throw new HttpError(400, `the body is not JSON: ${(error as Error).message}`);
  }
}

function send(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}
