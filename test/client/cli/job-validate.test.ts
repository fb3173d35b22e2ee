import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

// The real compiled CLI, run as people run it.
const cli = fileURLToPath(new URL('../../../client/cli/main.js', import.meta.url));
const example = (name: string) =>
  fileURLToPath(new URL(`../../../../examples/jobs/${name}`, import.meta.url));
const run = (args: string[], input?: string) =>
  spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8', input });

const dir = mkdtempSync(join(tmpdir(), 'imagecast-cli-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function file(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

describe('imagecast job validate', () => {
  it('accepts a valid document with exit code 0', () => {
    const result = run(['job', 'validate', example('local-demo.json')]);
    assert.equal(result.status, 0, result.stderr);
    assert.equal(result.stdout, 'valid: local job for image "imagecast-demo-v{date}-b{release}"\n');
  });

  it('prints the job with its defaults resolved as JSON with --json', () => {
    const result = run(
      ['job', 'validate', '--json', '--cloud', 'local', '-'],
      JSON.stringify({
        cloud_image_name: 'sles-v{date}',
        image_description: 'SLES',
        download_url: 'https://download.example/images/',
        image: 'SLES',
      }),
    );
    assert.equal(result.status, 0, result.stderr);
    const job = JSON.parse(result.stdout) as Record<string, unknown>;
    assert.equal(job.cloud, 'local');
    assert.equal(job.conditions_wait_time, 900);
    assert.equal(job.region, 'local-1');
    assert.match(result.stderr, /valid: local job for image "sles-v\{date\}"/);
  });

  it('refuses a bad document with exit code 2 and lists every problem by path', () => {
    const bad = file(
      'bad.json',
      JSON.stringify({
        cloud: 'local',
        image: 'x',
        utctime: 'yesterday',
        profile: 'Pro xy',
        cloud_acount: 'a',
      }),
    );
    const result = run(['job', 'validate', bad]);
    assert.equal(result.status, 2);
    assert.match(result.stderr, /bad\.json: invalid job document \(6 problems\)/);
    for (const line of [
      '$.utctime: "yesterday" is neither "now", "always" nor an RFC 3339 timestamp',
      '$.profile: a kiwi profile name: letters, digits, "_", "." and "+"',
      '$.cloud_acount: unknown field "cloud_acount" (did you mean "cloud_account"?)',
      '$.download_url: required',
      '$.cloud_image_name: required',
      '$.image_description: required',
    ]) {
      assert.ok(result.stderr.includes(line), `${line} in:\n${result.stderr}`);
    }
  });

  it('lists the problems as JSON on stdout with --json', () => {
    const result = run(['job', 'validate', '--json', '-'], JSON.stringify({ cloud: 'local' }));
    assert.equal(result.status, 2);
    const report = JSON.parse(result.stdout) as { valid: boolean; issues: Array<{ path: string }> };
    assert.equal(report.valid, false);
    assert.deepEqual(report.issues.map((i) => i.path).sort(), [
      '$.cloud_image_name',
      '$.download_url',
      '$.image',
      '$.image_description',
    ]);
  });

  it('accepts the mash EC2 example as it is', () => {
    const result = run(['job', 'validate', example('mash-ec2.json')]);
    assert.equal(result.status, 0, result.stderr);
    assert.match(result.stdout + result.stderr, /valid: ec2 job/);
  });

  it('names the file and the line and column of malformed JSON', () => {
    const broken = file('broken.json', '{\n  "cloud": "local",\n  "image": oops\n}\n');
    const result = run(['job', 'validate', broken]);
    assert.equal(result.status, 2);
    assert.equal(result.stderr, `${broken}: not valid JSON at line 3, column 12: Unexpected token 'o'\n`);
  });

  it('names a file it cannot read', () => {
    const result = run(['job', 'validate', join(dir, 'missing.json')]);
    assert.equal(result.status, 2);
    assert.match(result.stderr, /missing\.json: cannot read: no such file/);
  });

  it('says what was expected and what was given for a wrong type, and what is wrong with each test', () => {
    const doc = file(
      'types.json',
      JSON.stringify({
        cloud: 'ec2',
        image: 1234,
        notify: 'yes',
        cloud_account: 42,
        allow_copy: false,
        download_url: 'https://download.example/images/',
        cloud_image_name: 'x-v{date}',
        image_description: 'x',
        tests: ['test_hostnme', { name: 'c' }],
      }),
    );
    const result = run(['job', 'validate', doc]);
    assert.equal(result.status, 2);
    for (const line of [
      '$.image: expected a string, got number 1234',
      '$.notify: expected a boolean (true or false), got string "yes"',
      '$.cloud_account: expected a string, got number 42',
      '$.allow_copy: expected a string, got boolean false',
      '$.tests[0]: unknown test "test_hostnme" (did you mean "test_hostname"?)',
      '$.tests[1].command: required',
    ])
      assert.ok(result.stderr.includes(line), `${line} in:\n${result.stderr}`);
  });

  it('refuses oversized documents with their size and the limit, and survives 200 000 unknown fields', () => {
    const base = { cloud: 'local', image: 'x', download_url: 'https://d.example/i/', cloud_image_name: 'x-{date}' };
    const big = run(['job', 'validate', '-'], JSON.stringify({ ...base, image_description: 'd'.repeat(3 * 1024 * 1024) }));
    assert.equal(big.status, 2);
    assert.match(big.stderr, /\$: the document is \d+ bytes of JSON; the limit is 262144 \(256 KiB\)/);
    const wide = Object.fromEntries(Array.from({ length: 200_000 }, (_, i) => [`f${i}`, 1]));
    const many = run(['job', 'validate', '--json', '-'], JSON.stringify({ ...base, image_description: 'd', ...wide }));
    assert.equal(many.status, 2, many.stderr);
    assert.match((JSON.parse(many.stdout) as { issues: Array<{ message: string }> }).issues[0]!.message, /limit is 262144/);
  });

  it('lists the shared fields\' problems of a document without a cloud, as mash writes them', () => {
    const result = run(['job', 'validate', '-'], JSON.stringify({ image: 5, last_service: 'test_cleanup' }));
    assert.equal(result.status, 2);
    assert.match(result.stderr, /\$\.cloud: say which cloud/);
    assert.match(result.stderr, /\$\.image: expected a string, got number 5/);
    assert.match(result.stderr, /\$\.download_url: required/);
  });

  it('answers on stdout with --json when the file cannot be read', () => {
    const result = run(['job', 'validate', '--json', join(dir, 'missing.json')]);
    assert.equal(result.status, 2);
    const report = JSON.parse(result.stdout) as { valid: boolean; issues: Array<{ path: string; message: string }> };
    assert.equal(report.valid, false);
    assert.match(report.issues[0]!.message, /missing\.json: cannot read: no such file/);
  });

  it('refuses an unknown --cloud as invalid input', () => {
    const result = run(['job', 'validate', '--cloud', 'oci', example('local-demo.json')]);
    assert.equal(result.status, 2);
    assert.match(result.stderr, /Allowed choices are local, ec2, gce, azure/);
  });
});

describe('imagecast job schema', () => {
  it('prints JSON Schema generated from the zod schema', () => {
    const result = run(['job', 'schema', 'local', '--json']);
    assert.equal(result.status, 0, result.stderr);
    const schema = JSON.parse(result.stdout) as {
      $schema: string;
      type: string;
      properties: Record<string, { description?: string }>;
      required: string[];
    };
    assert.match(schema.$schema, /json-schema\.org/);
    assert.equal(schema.type, 'object');
    assert.ok(schema.properties.cloud_image_name?.description);
    assert.ok(schema.required.includes('image'));
  });

  it('prints JSON when stdout is not a terminal, one line with --raw, a field listing with --annotated', () => {
    assert.deepEqual(
      JSON.parse(run(['job', 'schema', 'local']).stdout),
      JSON.parse(run(['job', 'schema', 'local', '--json']).stdout),
    );
    assert.equal(run(['job', 'schema', 'local', '--raw']).stdout.trim().split('\n').length, 1);
    assert.match(
      run(['job', 'schema', 'local', '--annotated']).stdout,
      /^utctime {2}\("now" \| "always" \| string \(date-time\); default "now"\)$/m,
    );
  });

  it('checks every field of an azure document, and refuses a Partner Center publish by name', () => {
    const doc = {
      cloud_account: 'azure-prod',
      image: 'SLES15-SP6-Azure',
      download_url: 'https://download.example/images/',
      cloud_image_name: 'sles-15-sp6-v{date}',
      image_description: 'SLES 15 SP6',
      last_service: 'create',
    };
    const valid = run(['job', 'validate', '--cloud', 'azure', file('azure.json', JSON.stringify(doc))]);
    assert.equal(valid.status, 0, valid.stderr);
    const publishing = run(['job', 'validate', '--cloud', 'azure', file('azure-publish.json', JSON.stringify({ ...doc, last_service: 'publish', offer_id: 'sles', sku: 'gen1' }))]);
    assert.equal(publishing.status, 2);
    assert.match(publishing.stderr, /\$\.last_service: publish runs .* Partner Center offer draft .* which Imagecast cannot do yet: set last_service to "replicate"/);
    const broken = run(['job', 'validate', '--cloud', 'azure', '--json', file('azure-bad.json', JSON.stringify({ ...doc, source_storage_account: 'storage_account1', publish_from_sig: true, publish_offer: true }))]);
    assert.equal(broken.status, 2);
    const { issues } = JSON.parse(broken.stdout) as { issues: Array<{ path: string; message: string }> };
    assert.deepEqual(issues.map((i) => i.path), ['$.source_storage_account', '$.publish_from_sig', '$.publish_offer']);
    assert.match(issues[2]!.message, /mash removed it in 2022/);
  });

  it('refuses an unknown cloud and conflicting formats as invalid input', () => {
    assert.equal(run(['job', 'schema', 'oci']).status, 2);
    assert.equal(run(['job', 'schema', 'local', '--json', '--raw']).status, 2);
  });
});

describe('imagecast --help and --version', () => {
  it('shows an example for every command', () => {
    for (const args of [[], ['job'], ['job', 'validate'], ['job', 'schema']]) {
      const result = run([...args, '--help']);
      assert.equal(result.status, 0, result.stderr);
      assert.match(
        result.stdout,
        /Examples?:\n {2}imagecast /,
        `example in ${['imagecast', ...args].join(' ')} --help`,
      );
    }
  });

  it("prints the package's version", () => {
    const pkg = JSON.parse(
      readFileSync(fileURLToPath(new URL('../../../../package.json', import.meta.url)), 'utf8'),
    ) as { version: string };
    assert.equal(run(['--version']).stdout.trim(), pkg.version);
  });
});
