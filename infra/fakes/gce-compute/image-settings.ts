// What a release changes on an existing image: deprecation, labels and who may use it.
// deprecate and setLabels answer an Operation and take effect when it is DONE;
// getIamPolicy/setIamPolicy answer the Policy at once, as Google's do.
import { conditionNotMet, invalidField, requiredField } from './errors.js';
import { findImage } from './images.js';
import { startOperation } from './operations.js';
import { checkLabels, compact, copy, fingerprint } from './resources.js';
import type { Call, Json, OperationRecord } from './state.js';

const DEPRECATION_STATES = ['ACTIVE', 'DEPRECATED', 'OBSOLETE', 'DELETED'];

function checkTime(field: string, value: unknown): string | undefined {
  if (value === undefined || value === null || value === '') return undefined;
  if (typeof value !== 'string' || Number.isNaN(Date.parse(value))) {
    throw invalidField(`deprecationStatus.${field}`, value, 'Must be an RFC 3339 timestamp.');
  }
  return value;
}

/**
 * images.deprecate: POST projects/{project}/global/images/{image}/deprecate, body DeprecationStatus —
 * https://cloud.google.com/compute/docs/reference/rest/v1/images/deprecate. State ACTIVE
 * (or an empty body) clears the deprecation, as the reference and `gcloud compute images
 * deprecate --state=ACTIVE` say (a revoke's restore relies on it; Google's current "Deprecate a
 * custom image" guide calls deprecation irreversible, which the fake does not imitate);
 * `replacement` is kept as given.
 */
export function deprecateImage(call: Call): OperationRecord {
  const record = findImage(call.store, call.project, call.params['image']!);
  const { body } = call;
  const state = body['state'] ?? 'ACTIVE';
  if (!DEPRECATION_STATES.includes(String(state))) throw invalidField('deprecationStatus.state', state);
  const status = compact({
    state: String(state),
    replacement: typeof body['replacement'] === 'string' && body['replacement'] ? body['replacement'] : undefined,
    deprecated: checkTime('deprecated', body['deprecated']),
    obsolete: checkTime('obsolete', body['obsolete']),
    deleted: checkTime('deleted', body['deleted']),
  });
  return startOperation(call.store, {
    project: call.project,
    operationType: 'deprecate',
    targetLink: String(record.resource['selfLink']),
    targetId: String(record.resource['id']),
    complete: () => {
      if (status.state === 'ACTIVE') delete record.resource['deprecated'];
      else record.resource['deprecated'] = status;
    },
  });
}

/**
 * images.setLabels: POST projects/{project}/global/images/{resource}/setLabels, body
 * {labels, labelFingerprint} — https://cloud.google.com/compute/docs/reference/rest/v1/images/setLabels.
 * The fingerprint must be the image's current one (optimistic locking); Google answers 412.
 */
export function setImageLabels(call: Call): OperationRecord {
  const record = findImage(call.store, call.project, call.params['image']!);
  const given = call.body['labelFingerprint'];
  if (!given) throw requiredField('labelFingerprint');
  if (given !== record.resource['labelFingerprint']) {
    throw conditionNotMet('Labels fingerprint either invalid or resource labels have changed');
  }
  const labels = checkLabels(call.body['labels'], 'labels');
  return startOperation(call.store, {
    project: call.project,
    operationType: 'setLabels',
    targetLink: String(record.resource['selfLink']),
    targetId: String(record.resource['id']),
    complete: () => {
      if (Object.keys(labels).length > 0) record.resource['labels'] = labels;
      else delete record.resource['labels'];
      record.resource['labelFingerprint'] = fingerprint(labels);
    },
  });
}

function policyView(policy: { version: number; etag: string; bindings: Json[] }): Json {
  return compact({ version: policy.version, etag: policy.etag, bindings: policy.bindings.length > 0 ? copy(policy.bindings) : undefined });
}

/** images.getIamPolicy: GET …/images/{resource}/getIamPolicy — https://cloud.google.com/compute/docs/reference/rest/v1/images/getIamPolicy */
export const getImagePolicy = (call: Call): Json => policyView(findImage(call.store, call.project, call.params['image']!).policy);

/**
 * images.setIamPolicy: POST …/images/{resource}/setIamPolicy, body {policy} —
 * https://cloud.google.com/compute/docs/reference/rest/v1/images/setIamPolicy. A policy
 * carrying an etag other than the current one was read before someone else's change: 412.
 */
export function setImagePolicy(call: Call): Json {
  const record = findImage(call.store, call.project, call.params['image']!);
  const policy = (call.body['policy'] ?? {}) as Json;
  if (policy['etag'] !== undefined && policy['etag'] !== record.policy.etag) {
    throw conditionNotMet('There were concurrent policy changes. Please retry the whole read-modify-write with exponential backoff.');
  }
  const bindings = ((policy['bindings'] ?? []) as Json[]).map((binding, i) => {
    const role = binding['role'];
    const members = binding['members'];
    if (typeof role !== 'string' || !role.startsWith('roles/')) throw invalidField(`policy.bindings[${i}].role`, role);
    if (!Array.isArray(members) || members.some((m) => typeof m !== 'string' || !/^[a-zA-Z]+(:.+)?$/.test(m))) {
      throw invalidField(`policy.bindings[${i}].members`, JSON.stringify(members));
    }
    return { role, members: [...new Set(members as string[])] };
  });
  record.policy = { version: Number(policy['version'] ?? 1), bindings, etag: fingerprint([bindings, Date.now()]) };
  return policyView(record.policy);
}
