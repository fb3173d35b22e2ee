import { z } from 'zod';
import { CLOUDS, type CloudName } from '../steps.js';
import { baseJobShape, UNSUPPORTED_MASH_FIELDS } from './base.js';
import { AVAILABLE_CLOUDS, jobSchemas, refusedMashField, type ReleaseJob } from './clouds.js';
import { fromZodIssues, jsonPath, type JobIssue, type RawIssue } from './issues.js';
import { azureCrossFieldIssues } from './azure-rules.js';
import { ec2CrossFieldIssues } from './ec2.js';
import { gceCrossFieldIssues } from './gce.js';
import { jobIssueMessage } from '../zod-messages.js';
import { LIMITS } from './limits.js';
import { localCrossFieldIssues } from './local.js';
import { rawUploadCrossFieldIssues } from './raw-upload-fields.js';
import { s3DownloadCrossFieldIssues } from './s3-download-fields.js';

export type ParseJobResult = { ok: true; job: ReleaseJob } | { ok: false; issues: JobIssue[] };

/**
 * Validates a job document for `cloud` (which fills in or must match the document's own
 * `cloud`) and applies the defaults. Reports every problem at once, in document order:
 * schema errors, cross-field errors, mash fields we do not support yet, unknown fields.
 * A cloud whose provider is not available is refused with that one issue: this is what a
 * release runs.
 */
export function parseJob(input: unknown, cloud?: CloudName): ParseJobResult {
  return validateJob(input, cloud);
}

/**
 * What `imagecast job validate` runs: the same checks as a release. (It once also checked
 * the documents of clouds whose provider was not wired yet; every cloud has one now.)
 */
export const checkJobDocument = parseJob;

function validateJob(input: unknown, cloud: CloudName | undefined): ParseJobResult {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    return refused([{ path: [], message: 'a job document must be a JSON object' }]);
  }
  const tooBig = sizeProblem(input);
  if (tooBig) return refused([{ path: [], message: tooBig }]);
  const doc = input as Record<string, unknown>;
  const named = doc.cloud;
  const target = cloud ?? named;
  if (target === undefined) {
    // mash documents name no cloud (its command does): still list what is wrong with the rest.
    const issues: RawIssue[] = [
      {
        path: ['cloud'],
        message: `say which cloud: ${CLOUDS.join(', ')} (a "cloud" field, or the command's cloud argument)`,
      },
    ];
    const shared = sharedFieldsSchema.safeParse(doc, { reportInput: true, error: jobIssueMessage });
    if (!shared.success) append(issues, fromZodIssues(shared.error, sharedFieldsSchema, 'local'));
    for (const field of Object.keys(doc)) {
      // The shared mash fields every cloud refuses are known without the cloud.
      if ((UNSUPPORTED_MASH_FIELDS as readonly string[]).includes(field))
        issues.push({ path: [field], message: refusedMashField('local', field)! });
    }
    return refused(issues, ['cloud', ...Object.keys(doc), ...Object.keys(baseJobShape)]);
  }
  if (!isCloud(target)) {
    return refused([
      {
        path: ['cloud'],
        message: `unknown cloud ${JSON.stringify(target)}: Imagecast releases to ${CLOUDS.join(', ')}`,
      },
    ]);
  }
  // Every cloud Imagecast names has its provider now; a new one starts here, refused until it has.
  if (!isAvailable(target)) return refused([{ path: ['cloud'], message: `the ${target} provider is not available yet` }]);

  const { issues, result } = documentIssues(doc, target);
  if (issues.length > 0) return refused(issues, [...Object.keys(doc), ...Object.keys(jobSchemas[target].shape)]);

  const job = result.data as ReleaseJob;
  // mash: an empty boot_firmware list means bios.
  if (job.boot_firmware.length === 0) job.boot_firmware = ['bios'];
  // mash's imds_version is our imds_support: the plan reads imds_support only.
  if (job.cloud === 'ec2' && job.imds_version !== undefined) {
    job.imds_support = 'v2.0';
    delete job.imds_version;
  }
  return { ok: true, job };
}

/** The schema's and the cross-field problems of a document for `target`. */
function documentIssues(doc: Record<string, unknown>, target: CloudName) {
  const issues: RawIssue[] = [];
  if (doc.cloud !== undefined && doc.cloud !== target) {
    issues.push({
      path: ['cloud'],
      message: `the document says ${JSON.stringify(doc.cloud)} but the job is for ${target}`,
    });
  }
  const schema = jobSchemas[target];
  const result = schema.safeParse({ ...doc, cloud: target }, { reportInput: true, error: jobIssueMessage });
  if (!result.success) append(issues, fromZodIssues(result.error, schema, target));
  if (target === 'local') append(issues, localCrossFieldIssues(doc));
  if (target === 'ec2') append(issues, ec2CrossFieldIssues(doc));
  if (target === 'gce') append(issues, gceCrossFieldIssues(doc));
  if (target === 'azure') append(issues, azureCrossFieldIssues(doc));
  append(issues, rawUploadCrossFieldIssues(doc));
  append(issues, s3DownloadCrossFieldIssues(doc));
  return { issues, result };
}

/** The fields every cloud has; other fields pass (which cloud has them is unknown yet). */
const sharedFieldsSchema = z.object(baseJobShape);

/**
 * The whole document must fit the documented limit. Measured as JSON, which also refuses
 * what JSON cannot carry: nesting too deep to serialise, cycles, BigInts.
 */
function sizeProblem(input: object): string | undefined {
  let bytes: number;
  try {
    bytes = Buffer.byteLength(JSON.stringify(input), 'utf8');
  } catch {
    return 'a job document must be plain JSON; this one cannot be serialised (nested too deeply, cyclic, or holding values JSON has not)';
  }
  if (bytes <= LIMITS.documentBytes) return undefined;
  return `the document is ${bytes} bytes of JSON; the limit is ${LIMITS.documentBytes} (${LIMITS.documentBytes / 1024} KiB)`;
}

/** push(...many) passes every element as an argument, which overflows the stack for huge lists. */
function append(to: RawIssue[], more: readonly RawIssue[]): void {
  for (const issue of more) to.push(issue);
}

function isCloud(value: unknown): value is CloudName {
  return (CLOUDS as readonly unknown[]).includes(value);
}

function isAvailable(cloud: CloudName): cloud is ReleaseJob['cloud'] {
  return (AVAILABLE_CLOUDS as readonly CloudName[]).includes(cloud);
}

/**
 * Issues in the order their fields appear (the document's order, then the schema's for missing
 * ones), at most LIMITS.reportedProblems of them: the rest are counted in a last line.
 */
function refused(issues: RawIssue[], fieldOrder: string[] = []): { ok: false; issues: JobIssue[] } {
  const ranks = new Map<string, number>();
  fieldOrder.forEach((field, i) => {
    if (!ranks.has(field)) ranks.set(field, i);
  });
  const rank = (issue: RawIssue) => ranks.get(String(issue.path[0])) ?? fieldOrder.length;
  const sorted = [...issues].sort((a, b) => rank(a) - rank(b) || comparePaths(a.path, b.path));
  const shown = sorted.slice(0, LIMITS.reportedProblems).map((i) => ({ path: jsonPath(i.path), message: i.message }));
  const hidden = sorted.length - shown.length;
  if (hidden > 0)
    shown.push({ path: '$', message: `… and ${hidden} more problems (only the first ${LIMITS.reportedProblems} are listed)` });
  return { ok: false, issues: shown };
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
