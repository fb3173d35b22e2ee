// The REST paths the official @google-cloud/compute 7.x clients call (logged from a real
// client: `POST /compute/v1/projects/P/global/images?requestId=…`, `…/operations/OP/wait`,
// `GET …/serialPort?port=1&start=0`), each mapped to the API method it is.
import { deleteFirewall, getFirewall, insertFirewall, listFirewalls } from './firewalls.js';
import { deprecateImage, getImagePolicy, setImageLabels, setImagePolicy } from './image-settings.js';
import { deleteImage, getFromFamily, getImage, insertImage, listImages } from './images.js';
import { deleteInstance, getInstance, insertInstance, listInstances, resetInstance, serialPortOutput } from './instances.js';
import { getOperation, waitOperation } from './operations.js';
import type { Call, Json, OperationRecord } from './state.js';

export interface Route {
  /** The API method, as the reference names it (`images.insert`); faults and the request log use it. */
  method: string;
  http: 'GET' | 'POST' | 'DELETE';
  pattern: RegExp;
  keys: string[];
  /** Answers an Operation, honours requestId, and may meet an operation-error fault. */
  mutating: boolean;
  handler: (call: Call) => Json | OperationRecord | Promise<Json>;
}

const PROJECT = '/compute/v1/projects/:project';

function route(method: string, http: Route['http'], path: string, handler: Route['handler'], mutating = false): Route {
  const keys: string[] = [];
  const source = (PROJECT + path).replace(/:(\w+)/g, (_, key: string) => {
    keys.push(key);
    return '([^/]+)';
  });
  return { method, http, pattern: new RegExp(`^${source}$`), keys, mutating, handler };
}

/** Literal paths before parameter ones where both could match (`images/x/getIamPolicy` vs `images/family/x`). */
export const ROUTES: Route[] = [
  route('images.insert', 'POST', '/global/images', insertImage, true),
  route('images.list', 'GET', '/global/images', listImages),
  route('images.getIamPolicy', 'GET', '/global/images/:image/getIamPolicy', getImagePolicy),
  route('images.setIamPolicy', 'POST', '/global/images/:image/setIamPolicy', setImagePolicy),
  route('images.deprecate', 'POST', '/global/images/:image/deprecate', deprecateImage, true),
  route('images.setLabels', 'POST', '/global/images/:image/setLabels', setImageLabels, true),
  route('images.getFromFamily', 'GET', '/global/images/family/:family', getFromFamily),
  route('images.get', 'GET', '/global/images/:image', getImage),
  route('images.delete', 'DELETE', '/global/images/:image', deleteImage, true),
  route('instances.insert', 'POST', '/zones/:zone/instances', insertInstance, true),
  route('instances.list', 'GET', '/zones/:zone/instances', listInstances),
  route('instances.getSerialPortOutput', 'GET', '/zones/:zone/instances/:instance/serialPort', serialPortOutput),
  route('instances.reset', 'POST', '/zones/:zone/instances/:instance/reset', resetInstance, true),
  route('instances.get', 'GET', '/zones/:zone/instances/:instance', getInstance),
  route('instances.delete', 'DELETE', '/zones/:zone/instances/:instance', deleteInstance, true),
  route('firewalls.insert', 'POST', '/global/firewalls', insertFirewall, true),
  route('firewalls.list', 'GET', '/global/firewalls', listFirewalls),
  route('firewalls.get', 'GET', '/global/firewalls/:firewall', getFirewall),
  route('firewalls.delete', 'DELETE', '/global/firewalls/:firewall', deleteFirewall, true),
  route('globalOperations.wait', 'POST', '/global/operations/:operation/wait', waitOperation),
  route('globalOperations.get', 'GET', '/global/operations/:operation', getOperation),
  route('zoneOperations.wait', 'POST', '/zones/:zone/operations/:operation/wait', waitOperation),
  route('zoneOperations.get', 'GET', '/zones/:zone/operations/:operation', getOperation),
];

export const METHODS: ReadonlySet<string> = new Set(ROUTES.map((r) => r.method));

export interface Match {
  route: Route;
  params: Record<string, string>;
}

export function matchRoute(http: string, pathname: string): Match | undefined {
  for (const candidate of ROUTES) {
    if (candidate.http !== http) continue;
    const found = candidate.pattern.exec(pathname);
    if (!found) continue;
    const params: Record<string, string> = {};
    candidate.keys.forEach((key, i) => (params[key] = decodeURIComponent(found[i + 1]!)));
    return { route: candidate, params };
  }
  return undefined;
}

/** What a mutating call acts on, for an operation that fails before acting (an operation-error fault). */
export function targetPath(match: Match, pathname: string, body: Json): string {
  const path = decodeURIComponent(pathname.replace(/^\/compute\/v1\//, ''));
  const verb = match.route.method.split('.')[1];
  if (verb === 'insert') return `${path}/${String(body['name'] ?? '')}`;
  if (match.route.http === 'POST') return path.replace(/\/[^/]+$/, '');
  return path;
}
