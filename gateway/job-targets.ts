import type { ReleaseJob } from '../schemas/job/index.js';

/** Every account and group name a job releases with: what a token's scope must cover. */
export function jobTargets(job: ReleaseJob): string[] {
  const names: string[] = [];
  const doc = job as Record<string, unknown>;
  if (typeof doc.cloud_account === 'string') names.push(doc.cloud_account);
  if (Array.isArray(doc.cloud_accounts)) {
    for (const entry of doc.cloud_accounts as Array<{ name?: unknown }>) if (typeof entry.name === 'string') names.push(entry.name);
  }
  if (Array.isArray(doc.cloud_groups)) for (const group of doc.cloud_groups) if (typeof group === 'string') names.push(group);
  return [...new Set(names)];
}
