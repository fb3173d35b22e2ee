import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { tempDir } from '../../support/stack.js';

const cli = fileURLToPath(new URL('../../../client/cli/main.js', import.meta.url));
const example = fileURLToPath(new URL('../../../../examples/jobs/local-demo.json', import.meta.url));
const run = (...args: string[]) => spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8' });

describe('imagecast job validate / schema', () => {
  const dir = tempDir('cli');

  it('accepts a valid document', () => {
    const result = run('job', 'validate', '--cloud', 'local', example);
    assert.equal(result.status, 0, result.stderr);
    assert.match(result.stdout, /valid: local job for image "imagecast-demo-v\{date\}-b\{release\}"/);
  });

  it('refuses a bad document with exit code 2 and every problem by path', () => {
    const bad = join(dir, 'bad.json');
    writeFileSync(bad, JSON.stringify({ cloud: 'local', image: 'x', utctime: 'yesterday', profile: 'Proxy' }));
    const result = run('job', 'validate', bad);
    assert.equal(result.status, 2);
    for (const path of ['$.cloud_image_name', '$.download_url', '$.image_description', '$.utctime', '$.profile']) {
      assert.ok(result.stderr.includes(path), `${path} in ${result.stderr}`);
    }
  });

  it('names the file and the parse error for malformed JSON', () => {
    const broken = join(dir, 'broken.json');
    writeFileSync(broken, '{ "cloud": "local", ');
    const result = run('job', 'validate', broken);
    assert.equal(result.status, 2);
    assert.match(result.stderr, /broken\.json: not valid JSON/);
  });

  it('prints JSON Schema generated from the zod schema', () => {
    const result = run('job', 'schema', 'local', '--json');
    assert.equal(result.status, 0, result.stderr);
    const schema = JSON.parse(result.stdout) as { properties: Record<string, unknown> };
    assert.ok('cloud_image_name' in schema.properties);
  });

  it('shows an example in --help', () => {
    assert.match(run('job', 'validate', '--help').stdout, /Example:\n {2}imagecast job validate/);
  });
});
