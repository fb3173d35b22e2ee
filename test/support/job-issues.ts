/** What the schema tests share: a minimal EC2 job, and the issues of a document refused. */
import assert from 'node:assert/strict';
import { formatIssues, parseJob, type JobIssue } from '../../schemas/job/index.js';
import type { CloudName } from '../../schemas/steps.js';

/** The fewest fields an EC2 job needs (add `cloud` or pass the cloud to parseJob). */
export const ec2Doc = {
  cloud_account: 'account1',
  image: 'SLES15-EC2',
  download_url: 'https://download.example/images/',
  cloud_image_name: 'sles-15-v{date}',
  image_description: 'SLES 15',
};

/** The issues of a document that must be refused. */
export function issuesOf(doc: unknown, cloud?: CloudName): JobIssue[] {
  const result = parseJob(doc, cloud);
  assert.equal(result.ok, false, 'expected the document to be refused');
  return result.ok ? [] : result.issues;
}

/** The single issue at `path`. */
export function issueAt(issues: JobIssue[], path: string): string {
  const found = issues.filter((i) => i.path === path);
  assert.equal(found.length, 1, `one issue at ${path} in:\n${formatIssues(issues)}`);
  return found[0]!.message;
}
