import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { deterministicReleaseId, expandImageName, jobJsonSchema, parseJob } from '../../schemas/job/index.js';

const example = JSON.parse(
  readFileSync(fileURLToPath(new URL('../../../examples/jobs/local-demo.json', import.meta.url)), 'utf8'),
) as Record<string, unknown>;

const minimal = {
  cloud_image_name: 'sles-15-v{date}',
  image_description: 'SLES 15',
  download_url: 'https://download.example/images/',
  image: 'SLES15-EC2',
};

function issuesOf(doc: unknown, cloud?: 'local' | 'ec2') {
  const result = parseJob(doc, cloud);
  assert.equal(result.ok, false, 'expected the document to be refused');
  return result.ok ? [] : result.issues;
}

describe('local job documents', () => {
  it('accepts the example and fills in defaults', () => {
    const result = parseJob(example, 'local');
    assert.ok(result.ok);
    assert.equal(result.job.conditions_wait_time, 900);
    assert.deepEqual(result.job.boot_firmware, ['bios']);
  });

  it('accepts a minimal mash-style document, defaults applied', () => {
    const result = parseJob({ ...minimal, utctime: 'now', last_service: 'publish', notify: false }, 'local');
    assert.ok(result.ok);
    assert.equal(result.job.cloud_account, 'local');
    assert.equal(result.job.region, 'local-1');
    assert.equal(result.job.share_with, 'none');
    assert.equal(result.job.last_service, 'publish');
  });

  it('lists every problem at once with its JSON path', () => {
    const issues = issuesOf({
      cloud_architecture: 'sparc',
      conditions: [{ condition: '~=' }, {}],
      last_service: 'upload_everything',
      utctime: 'always',
      cloud_image_name: 'x-{build}',
      raw_image_upload_type: 's3bucket',
      cloud_acount: 'typo',
      additional_regions: ['local-1', 'local-2', 'local-2'],
    }, 'local');
    const byPath = Object.fromEntries(issues.map((i) => [i.path, i.message]));
    assert.match(byPath['$.image_description']!, /required/);
    assert.match(byPath['$.download_url']!, /required/);
    assert.match(byPath['$.image']!, /required/);
    assert.ok(byPath['$.cloud_architecture']);
    assert.ok(byPath['$.conditions[0].condition']);
    assert.match(byPath['$.conditions[1]']!, /at least one of package_name, version or release/);
    assert.ok(byPath['$.last_service']);
    assert.match(byPath['$.utctime']!, /not supported yet/);
    assert.match(byPath['$.cloud_image_name']!, /unknown placeholder \{build\}/);
    assert.match(byPath['$.raw_image_upload_type']!, /mash field "raw_image_upload_type" is not supported by Imagecast yet/);
    assert.match(byPath['$.cloud_acount']!, /unknown field "cloud_acount" \(did you mean "cloud_account"\?\)/);
    assert.match(byPath['$.additional_regions[0]']!, /home region/);
    assert.match(byPath['$.additional_regions[2]']!, /listed twice/);
  });

  it('names the cloud problem: missing, unknown, mismatched, not available yet', () => {
    assert.match(issuesOf(minimal)[0]!.message, /say which cloud/);
    assert.match(issuesOf({ ...minimal, cloud: 'ec2' }, 'local')[0]!.message, /says "ec2" but the job is for local/);
    assert.match(issuesOf(minimal, 'ec2')[0]!.message, /ec2 provider is not available yet/);
    assert.match(issuesOf([1, 2])[0]!.message, /must be a JSON object/);
  });
});

describe('image names and release ids', () => {
  it('fills {date}, {version} and {release}', () => {
    assert.equal(
      expandImageName('sles-v{date}-{version}-b{release}', { date: '20261125', version: '15.6', release: '1.2' }),
      'sles-v20261125-15.6-b1.2',
    );
    assert.equal(expandImageName('sles-v{date}-b{release}', { date: '20261125' }), 'sles-v20261125-b{release}');
  });

  it('derives one workflow id per cloud, account and image line per day', () => {
    const job = { cloud: 'local', cloud_account: 'team a', cloud_image_name: 'sles-v{date}-b{release}' };
    assert.equal(deterministicReleaseId(job, '20261125'), 'release-local-team_a-sles-v20261125-b_release_');
  });
});

describe('generated JSON Schema', () => {
  it('describes every field and lists the required ones', () => {
    const schema = JSON.parse(jobJsonSchema('local', 'json')) as {
      properties: Record<string, { description?: string }>;
      required: string[];
    };
    for (const [name, field] of Object.entries(schema.properties)) assert.ok(field.description, `${name} has a description`);
    assert.deepEqual([...schema.required].sort(), ['cloud', 'cloud_image_name', 'download_url', 'image', 'image_description']);
    assert.match(jobJsonSchema('local', 'annotated'), /conditions_wait_time {2}\(integer; default 900\)/);
    assert.equal(jobJsonSchema('local', 'raw').includes('\n'), false);
  });
});
