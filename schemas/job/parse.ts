import { CLOUDS, type CloudName } from '../steps.js';
import { AVAILABLE_CLOUDS, jobSchemas, type ReleaseJob } from './clouds.js';
import { fromZodIssues, jsonPath, type JobIssue, type RawIssue } from './issues.js';
import { ec2CrossFieldIssues } from './ec2.js';
import { localCrossFieldIssues } from './local.js';

export type ParseJobResult = { ok: true; job: ReleaseJob } | { ok: false; issues: JobIssue[] };

/**
 * Validates a job document for `cloud` (which fills in or must match the document's own
 * `cloud`) and applies the defaults. Reports every problem at once, in document order:
 * schema errors, cross-field errors, mash fields we do not support yet, unknown fields.
 */
export function parseJob(input: unknown, cloud?: CloudName): ParseJobResult {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    return refused([{ path: [], message: 'a job document must be a JSON object' }]);
  }
  const doc = input as Record<string, unknown>;
  const named = doc.cloud;
  const target = cloud ?? named;
  if (target === undefined) {
    return refused([
      {
        path: ['cloud'],
        message: `say which cloud: ${CLOUDS.join(', ')} (a "cloud" field, or the command's cloud argument)`,
      },
    ]);
  }
  if (!isCloud(target)) {
    return refused([
      {
        path: ['cloud'],
        message: `unknown cloud ${JSON.stringify(target)}: Imagecast releases to ${CLOUDS.join(', ')}`,
      },
    ]);
  }
  if (!isAvailable(target))
    return refused([{ path: ['cloud'], message: `the ${target} provider is not available yet` }]);

  const issues: RawIssue[] = [];
  if (named !== undefined && named !== target) {
    issues.push({
      path: ['cloud'],
      message: `the document says ${JSON.stringify(named)} but the job is for ${target}`,
    });
  }
  const schema = jobSchemas[target];
  const result = schema.safeParse({ ...doc, cloud: target });
  if (!result.success) issues.push(...fromZodIssues(result.error, schema, target));
  if (target === 'local') issues.push(...localCrossFieldIssues(doc));
  if (target === 'ec2') issues.push(...ec2CrossFieldIssues(doc));
  if (issues.length > 0) return refused(issues, [...Object.keys(doc), ...Object.keys(schema.shape)]);

  const job = result.data!;
  // mash: an empty boot_firmware list means bios.
  if (job.boot_firmware.length === 0) job.boot_firmware = ['bios'];
  return { ok: true, job };
}

function isCloud(value: unknown): value is CloudName {
  return (CLOUDS as readonly unknown[]).includes(value);
}

function isAvailable(cloud: CloudName): cloud is ReleaseJob['cloud'] {
  return (AVAILABLE_CLOUDS as readonly CloudName[]).includes(cloud);
}

/** Issues in the order their fields appear (the document's order, then the schema's for missing ones). */
function refused(issues: RawIssue[], fieldOrder: string[] = []): { ok: false; issues: JobIssue[] } {
  const rank = (issue: RawIssue) => {
    const at = fieldOrder.indexOf(String(issue.path[0]));
    return at === -1 ? fieldOrder.length : at;
  };
  const sorted = [...issues].sort((a, b) => rank(a) - rank(b) || comparePaths(a.path, b.path));
  return { ok: false, issues: sorted.map((i) => ({ path: jsonPath(i.path), message: i.message })) };
}

function comparePaths(a: ReadonlyArray<PropertyKey>, b: ReadonlyArray<PropertyKey>): number {
  for (let i = 0; i < Math.min(a.length, b.length); i++) {
    const [x, y] = [a[i], b[i]];
    if (x === y) continue;
    if (typeof x === 'number' && typeof y === 'number') return x - y;
    return String(x).localeCompare(String(y));
  }
  return a.length - b.length;
}
