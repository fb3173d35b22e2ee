// What every Compute resource shares: decimal-string ids, RFC 3339 timestamps, selfLinks on
// www.googleapis.com (the host Google writes into selfLink and targetLink even when the call
// went to compute.googleapis.com), names as RFC 1035 labels, and fingerprints.
// https://cloud.google.com/compute/docs/reference/rest/v1/images (the Image resource),
// https://cloud.google.com/compute/docs/naming-resources
import { createHash, randomBytes } from 'node:crypto';
import { invalidField, requiredField } from './errors.js';

export const LINK_ROOT = 'https://www.googleapis.com/compute/v1/';

/** `projects/p/global/images/x` → its selfLink. */
export const selfLink = (path: string) => LINK_ROOT + path;

/** A partial or full resource URL reduced to its path below the API root. */
export function resourcePath(url: string): string {
  const at = url.indexOf('/compute/v1/');
  return at >= 0 ? url.slice(at + '/compute/v1/'.length) : url.replace(/^\/+/, '');
}

/** Google's ids are unsigned 64-bit numbers written as decimal strings. */
export function newId(): string {
  return (randomBytes(8).readBigUInt64BE() >> 1n).toString();
}

/** Google writes creationTimestamp with milliseconds and the Pacific offset; UTC is as valid RFC 3339. */
export const timestamp = (at = new Date()) => at.toISOString();

const NAME = /^[a-z](?:[-a-z0-9]{0,61}[a-z0-9])?$/;

/** Names of images, instances and firewalls: the regex the API states in its 400 message. */
export function checkName(name: unknown, field = 'resource.name'): string {
  if (name === undefined || name === '') throw requiredField(field);
  if (typeof name !== 'string' || !NAME.test(name)) {
    throw invalidField(field, name, "Must be a match of regex '(?:[a-z](?:[-a-z0-9]{0,61}[a-z0-9])?|[1-9][0-9]{0,19})'");
  }
  return name;
}

/** The zone rule the brief and our account schema share: us-east1-b, europe-west4-a. */
export const ZONE = /^[a-z]+-[a-z]+\d+-[a-z]$/;

/** Opaque, changes whenever the content does (labelFingerprint, metadata.fingerprint, IAM etag). */
export function fingerprint(value: unknown): string {
  return createHash('sha256').update(JSON.stringify(value ?? null)).digest().subarray(0, 8).toString('base64');
}

/** Label keys and values as https://cloud.google.com/compute/docs/labeling-resources#requirements states them. */
export function checkLabels(labels: unknown, field = 'resource.labels'): Record<string, string> {
  if (labels === undefined || labels === null) return {};
  if (typeof labels !== 'object' || Array.isArray(labels)) throw invalidField(field, JSON.stringify(labels));
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(labels)) {
    if (!/^[\p{Ll}\p{Lo}][\p{Ll}\p{Lo}\p{N}_-]{0,62}$/u.test(key)) throw invalidField(`${field}.key`, key);
    if (typeof value !== 'string' || !/^[\p{Ll}\p{Lo}\p{N}_-]{0,63}$/u.test(value)) {
      throw invalidField(`${field}.value`, value);
    }
    out[key] = value;
  }
  return out;
}

/** A deep copy, so tests' views and answers never alias the fake's records. */
export const copy = <T>(value: T): T => structuredClone(value);

/** Drops undefined members, which JSON.stringify would drop anyway but deepEqual would not. */
export function compact<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}
