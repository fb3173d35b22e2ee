// Global firewall rules, as a release opens SSH to its test instances.
// https://cloud.google.com/compute/docs/reference/rest/v1/firewalls (resource and methods).
// A rule exists from insert on (Google shows it once its operation is DONE; no test of ours
// reads one sooner). Left out: patch, update, rule evaluation, networks other than default.
import { alreadyExists, invalidField, notFound } from './errors.js';
import { paginate, parseFilter } from './filter.js';
import { startOperation } from './operations.js';
import { checkName, compact, copy, newId, resourcePath, selfLink, timestamp } from './resources.js';
import type { Call, Json, OperationRecord } from './state.js';

const firewallPath = (project: string, name: string) => `projects/${project}/global/firewalls/${name}`;

function findFirewall(call: Call): Json {
  const name = call.params['firewall']!;
  const rule = call.store.project(call.project).firewalls.get(name);
  if (!rule) throw notFound(firewallPath(call.project, name));
  return rule;
}

function checkRules(rules: unknown, field: string): Json[] | undefined {
  if (rules === undefined) return undefined;
  if (!Array.isArray(rules)) throw invalidField(field, JSON.stringify(rules));
  return rules.map((rule: Json, i) => {
    if (typeof rule['IPProtocol'] !== 'string' || !rule['IPProtocol']) throw invalidField(`${field}[${i}].IPProtocol`, rule['IPProtocol']);
    return compact({ IPProtocol: rule['IPProtocol'], ports: rule['ports'] ? [...(rule['ports'] as string[])] : undefined });
  });
}

/** firewalls.insert: POST projects/{project}/global/firewalls?requestId — https://cloud.google.com/compute/docs/reference/rest/v1/firewalls/insert */
export function insertFirewall(call: Call): OperationRecord {
  const { store, project, body } = call;
  const name = checkName(body['name']);
  const firewalls = store.project(project).firewalls;
  if (firewalls.has(name)) throw alreadyExists(firewallPath(project, name));
  const allowed = checkRules(body['allowed'], 'resource.allowed');
  const denied = checkRules(body['denied'], 'resource.denied');
  if (!allowed && !denied) throw invalidField('resource', name, "Exactly one of 'allowed' or 'denied' must be specified.");
  const direction = body['direction'] ?? 'INGRESS';
  if (direction !== 'INGRESS' && direction !== 'EGRESS') throw invalidField('resource.direction', direction);
  const rule: Json = compact({
    kind: 'compute#firewall',
    id: newId(),
    creationTimestamp: timestamp(),
    name,
    description: body['description'],
    network: selfLink(resourcePath(String(body['network'] ?? `projects/${project}/global/networks/default`))),
    priority: body['priority'] ?? 1000,
    sourceRanges: body['sourceRanges'] ? copy(body['sourceRanges']) : direction === 'INGRESS' ? ['0.0.0.0/0'] : undefined,
    destinationRanges: body['destinationRanges'] ? copy(body['destinationRanges']) : undefined,
    sourceTags: body['sourceTags'] ? copy(body['sourceTags']) : undefined,
    targetTags: body['targetTags'] ? copy(body['targetTags']) : undefined,
    allowed,
    denied,
    direction,
    logConfig: { enable: false },
    disabled: body['disabled'] ?? false,
    selfLink: selfLink(firewallPath(project, name)),
  });
  firewalls.set(name, rule);
  return startOperation(store, {
    project,
    operationType: 'insert',
    targetLink: String(rule['selfLink']),
    targetId: String(rule['id']),
  });
}

/** firewalls.get: GET projects/{project}/global/firewalls/{firewall} — https://cloud.google.com/compute/docs/reference/rest/v1/firewalls/get */
export const getFirewall = (call: Call): Json => copy(findFirewall(call));

/** firewalls.list: GET projects/{project}/global/firewalls?filter&maxResults&pageToken — https://cloud.google.com/compute/docs/reference/rest/v1/firewalls/list */
export function listFirewalls(call: Call): Json {
  const matches = parseFilter(call.query.get('filter'));
  const all = [...call.store.project(call.project).firewalls.values()].map(copy).filter(matches);
  const page = paginate(all, call.query.get('maxResults'), call.query.get('pageToken'));
  const id = `projects/${call.project}/global/firewalls`;
  return compact({ kind: 'compute#firewallList', id, items: page.items.length > 0 ? page.items : undefined, nextPageToken: page.nextPageToken, selfLink: selfLink(id) });
}

/** firewalls.delete: DELETE projects/{project}/global/firewalls/{firewall} — https://cloud.google.com/compute/docs/reference/rest/v1/firewalls/delete */
export function deleteFirewall(call: Call): OperationRecord {
  const rule = findFirewall(call);
  const firewalls = call.store.project(call.project).firewalls;
  return startOperation(call.store, {
    project: call.project,
    operationType: 'delete',
    targetLink: String(rule['selfLink']),
    targetId: String(rule['id']),
    complete: () => {
      if (firewalls.get(String(rule['name'])) === rule) firewalls.delete(String(rule['name']));
    },
  });
}
