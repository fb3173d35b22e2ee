// The HTTP side of the fake: routes a call, records it, applies faults and requestId
// idempotency (https://cloud.google.com/compute/docs/api/how-tos/api-requests-responses#idempotency:
// a repeated requestId answers the first call's Operation and does not act again; the id
// must be a UUID other than the zero UUID, as every mutating method's page says), and
// writes answers and Google-format errors. No authentication is checked; the Authorization
// header is recorded, for tests of what a client signs with.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { ApiError, invalidField, notFound, OperationFailure } from './errors.js';
import { Faults, type FaultPlan } from './faults.js';
import { imageView } from './images.js';
import { instanceView } from './instances.js';
import { operationView, startOperation } from './operations.js';
import { ZONE, selfLink } from './resources.js';
import { matchRoute, METHODS, targetPath, type Match } from './router.js';
import { fakeState, Store, type Call, type FakeState, type Json, type OperationRecord, type RequestRecord } from './state.js';

export interface GceComputeFakeOptions {
  /** Cloud Storage emulator root (`http://127.0.0.1:P`); with it images.insert checks rawDisk.source there. */
  storageEndpoint?: string;
  /** How long every operation takes to be DONE (default 100 ms). */
  operationMs?: number;
  /** An image is READY no sooner than this after insert (default: operationMs). */
  imageReadyMs?: number;
  /** Port to listen on (default: any free one). */
  port?: number;
}

export interface GceComputeFake {
  /** `http://127.0.0.1:PORT`: give it to GceSettings.computeEndpoint. */
  endpoint: string;
  faults: FaultPlan;
  state: FakeState;
  stop(): Promise<void>;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const isOperation = (value: unknown): value is OperationRecord =>
  typeof value === 'object' && value !== null && 'waiters' in value && 'scope' in value;

async function readBody(req: IncomingMessage): Promise<Json> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  const text = Buffer.concat(chunks).toString('utf8').trim();
  if (!text) return {};
  try {
    const parsed: unknown = JSON.parse(text);
    return parsed && typeof parsed === 'object' && !Array.isArray(parsed) ? (parsed as Json) : {};
  } catch {
    throw new ApiError(400, 'parseError', 'Parse Error');
  }
}

function send(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json; charset=UTF-8', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

/** Acts on one routed call; answers the JSON to send, or the fault's HTTP error by throwing. */
async function dispatch(store: Store, faults: Faults, match: Match, call: Call, pathname: string): Promise<{ body: Json; drop: boolean }> {
  if (call.zone !== undefined && !ZONE.test(call.zone)) throw invalidField('zone', call.zone, 'Unknown zone.');
  const fault = faults.take({ method: call.method, project: call.project, zone: call.zone });
  if (fault?.kind === 'http') {
    throw new ApiError(fault.status, fault.reason, fault.message ?? `Injected ${fault.reason} for ${call.method}`);
  }
  const requestId = match.route.mutating ? call.query.get('requestId') : null;
  const ids = store.project(call.project).requestIds;
  if (requestId !== null) {
    if (!UUID.test(requestId) || /^[0-]+$/.test(requestId)) {
      throw invalidField('requestId', requestId, 'The request ID must be a valid UUID with the exception that zero UUID is not supported (00000000-0000-0000-0000-000000000000).');
    }
    const earlier = ids.get(requestId);
    if (earlier) return { body: operationView(earlier), drop: fault?.kind === 'drop-response' };
  }
  let answer: Json | OperationRecord;
  if (fault?.kind === 'operation-error') {
    answer = startOperation(store, {
      project: call.project,
      zone: call.zone,
      operationType: call.method.split('.')[1]!,
      targetLink: selfLink(targetPath(match, pathname, call.body)),
      failure: new OperationFailure(fault.code, fault.message ?? `Injected ${fault.code}`, fault.httpStatus),
    });
  } else {
    answer = await match.route.handler(call);
  }
  if (isOperation(answer)) {
    if (requestId !== null) ids.set(requestId, answer);
    return { body: operationView(answer), drop: fault?.kind === 'drop-response' };
  }
  return { body: answer, drop: fault?.kind === 'drop-response' };
}

export async function startGceComputeFake(options: GceComputeFakeOptions = {}): Promise<GceComputeFake> {
  const operationMs = options.operationMs ?? 100;
  const store = new Store({
    storageEndpoint: options.storageEndpoint,
    operationMs,
    imageReadyMs: options.imageReadyMs ?? operationMs,
  });
  const faults = new Faults(METHODS);

  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://fake');
    const record: RequestRecord = {
      method: 'unknown',
      httpMethod: req.method ?? 'GET',
      path: url.pathname,
      query: Object.fromEntries(url.searchParams),
      body: undefined,
      at: new Date(),
      ...(req.headers.authorization !== undefined && { authorization: req.headers.authorization }),
    };
    store.requests.push(record);
    void (async () => {
      try {
        const body = await readBody(req);
        record.body = body;
        const match = matchRoute(record.httpMethod, url.pathname);
        if (!match) throw notFound(url.pathname.replace(/^\/compute\/v1\//, ''));
        record.method = match.route.method;
        const call: Call = {
          method: match.route.method,
          project: match.params['project']!,
          zone: match.params['zone'],
          params: match.params,
          query: url.searchParams,
          body,
          store,
        };
        const answer = await dispatch(store, faults, match, call, url.pathname);
        if (answer.drop) {
          // The call took effect; the client only never hears of it.
          record.outcome = 'dropped';
          req.socket.destroy();
          return;
        }
        record.outcome = 200;
        send(res, 200, answer.body);
      } catch (error) {
        const failure = error instanceof ApiError ? error : new ApiError(500, 'backendError', `Internal error: ${String(error)}`);
        record.outcome = failure.status;
        send(res, failure.status, failure);
      }
    })();
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => resolve());
  });
  const address = server.address();
  if (!address || typeof address === 'string') throw new Error('the GCE fake did not get a TCP port');

  return {
    endpoint: `http://127.0.0.1:${address.port}`,
    faults,
    state: fakeState(store, { image: imageView, instance: instanceView, operation: operationView }),
    async stop() {
      store.stop();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
