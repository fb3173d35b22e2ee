// The HTTPS side of the fake: routes a call, records it, applies http faults, and writes
// answers and ARM-format errors. HTTPS because the SDK sends bearer tokens over HTTPS only;
// the certificate is self-signed for 127.0.0.1 and tests trust it per client
// (activities/azure/trust-ca.ts). ARM's request rules it keeps
// (https://github.com/Azure/azure-resource-manager-rpc/blob/master/v1.0/common-api-details.md):
// `api-version` is required (any value is accepted), the subscription id is a GUID, every
// answer has `x-ms-request-id`. No token is checked.
import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { makeSelfSignedCert } from '../../devstack/self-signed-cert.js';
import { ArmError, routeNotFound } from './errors.js';
import { Faults, type FaultPlan } from './faults.js';
import { operationView } from './operations.js';
import { viewOf } from './resources.js';
import { KINDS, matchRoute, OPERATIONS } from './router.js';
import {
  armFakeState,
  Store,
  TYPES,
  type Answer,
  type ArmFakeState,
  type Json,
  type RequestRecord,
} from './state.js';

export interface ArmFakeOptions {
  /** Port to listen on (default: any free one). */
  port?: number;
  /** How long an async operation stays InProgress (default 50 ms). */
  operationMs?: number;
  /** How long replication of a gallery image version takes per target region (default 100 ms). */
  replicationMs?: number;
  /** How long a CopyStart snapshot's background copy takes (default 100 ms): completionPercent 0 → 100. */
  copyMs?: number;
  /** With it, an image or version from a blob that does not exist is refused as Azure refuses it. */
  blobExists?: (uri: string) => Promise<boolean>;
}

export interface ArmFake {
  /** `https://127.0.0.1:PORT`: the clients' `endpoint` option. */
  endpoint: string;
  /** The self-signed certificate the fake serves: give it to trustCaPolicy. */
  caPem: string;
  state: ArmFakeState;
  faults: FaultPlan;
  stop(): Promise<void>;
}

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

async function readBody(req: IncomingMessage): Promise<Json> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  const text = Buffer.concat(chunks).toString('utf8').trim();
  if (!text) return {};
  try {
    const parsed: unknown = JSON.parse(text);
    return parsed && typeof parsed === 'object' && !Array.isArray(parsed) ? (parsed as Json) : {};
  } catch {
    throw new ArmError(
      400,
      'InvalidRequestContent',
      'The request content was invalid and could not be deserialized.',
    );
  }
}

function send(res: ServerResponse, method: string, answer: Answer): void {
  const headers: Record<string, string | number> = { 'x-ms-request-id': randomUUID(), ...answer.headers };
  if (answer.body === undefined || method === 'HEAD') {
    res.writeHead(answer.status, { ...headers, 'content-length': 0 });
    res.end();
    return;
  }
  const text = JSON.stringify(answer.body);
  res.writeHead(answer.status, {
    ...headers,
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
  });
  res.end(text);
}

function errorAnswer(error: unknown): Answer {
  const failure =
    error instanceof ArmError
      ? error
      : new ArmError(500, 'InternalServerError', `The fake failed: ${String(error)}`);
  const retry = failure.retryAfterSeconds ?? ([429, 503].includes(failure.status) ? 0 : undefined);
  return {
    status: failure.status,
    body: failure.toJSON(),
    headers: retry === undefined ? {} : { 'retry-after': String(retry) },
  };
}

async function handle(
  store: Store,
  faults: Faults,
  req: IncomingMessage,
  record: RequestRecord,
  url: URL,
): Promise<Answer> {
  const body = await readBody(req);
  const pathname = decodeURIComponent(url.pathname).replace(/\/+$/, '');
  const match = matchRoute(record.method, pathname);
  if (!match) throw routeNotFound(pathname);
  record.operation = match.route.operation;
  const subscription = match.params['subscriptionId'] ?? '';
  if (!GUID.test(subscription)) {
    throw new ArmError(
      400,
      'InvalidSubscriptionId',
      `The provided subscription identifier '${subscription}' is malformed or invalid.`,
    );
  }
  if (!url.searchParams.get('api-version')) {
    throw new ArmError(
      400,
      'MissingApiVersionParameter',
      'The api-version query parameter (?api-version=) is required for all requests.',
    );
  }
  const fault = faults.take({
    operation: match.route.operation,
    resourceGroup: match.params['resourceGroupName'],
    location: typeof body['location'] === 'string' ? body['location'] : undefined,
  });
  if (fault?.kind === 'http') {
    throw new ArmError(
      fault.status,
      fault.code,
      fault.message ?? `Injected ${fault.code} for ${match.route.operation}`,
      undefined,
      fault.retryAfterSeconds,
    );
  }
  return match.route.handler({
    operation: match.route.operation,
    httpMethod: record.method,
    params: match.params,
    subscription,
    path: pathname,
    query: url.searchParams,
    body,
    store,
    fault,
  });
}

/** What the state views show: a version with its replication status, a VM with its instance view. */
const EXPAND: Record<string, string> = {
  [TYPES.galleryImageVersions]: 'ReplicationStatus',
  [TYPES.virtualMachines]: 'instanceView',
};

export async function startArmFake(options: ArmFakeOptions = {}): Promise<ArmFake> {
  const store = new Store({
    operationMs: options.operationMs ?? 50,
    replicationMs: options.replicationMs ?? 100,
    copyMs: options.copyMs ?? 100,
    blobExists: options.blobExists,
  });
  const faults = new Faults(OPERATIONS);
  const { certPem, keyPem } = makeSelfSignedCert();

  const server: Server = createServer({ cert: certPem, key: keyPem }, (req, res) => {
    const url = new URL(req.url ?? '/', 'https://fake');
    const record: RequestRecord = {
      operation: 'unknown',
      method: req.method ?? 'GET',
      path: url.pathname,
      query: Object.fromEntries(url.searchParams),
      status: 0,
      at: new Date(),
      ...(req.headers.authorization !== undefined && { authorization: req.headers.authorization }),
    };
    store.requests.push(record);
    void handle(store, faults, req, record, url)
      .catch(errorAnswer)
      .then((answer) => {
        record.status = answer.status;
        send(res, record.method, answer);
      });
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => resolve());
  });
  const address = server.address();
  if (!address || typeof address === 'string') throw new Error('the ARM fake did not get a TCP port');
  store.endpoint = `https://127.0.0.1:${address.port}`;

  const kinds = new Map(KINDS.map((k) => [k.type, k]));
  return {
    endpoint: store.endpoint,
    caPem: certPem,
    faults,
    state: armFakeState(store, {
      resource: (r) => viewOf(kinds.get(r.type)!, r, EXPAND[r.type], store),
      operation: operationView,
    }),
    async stop() {
      store.stop();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
