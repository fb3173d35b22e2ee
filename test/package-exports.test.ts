// The package as another project sees it: `imagecast/sdk` by name (through package.json
// "exports"), `imagecast/package.json`, nothing else of dist/, and the bins on PATH after
// `npm link`, still runnable after a rebuild.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { tempDir } from './support/stack.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string; bin: Record<string, string> };

/** A project of its own with the repository installed as its `imagecast` dependency. */
function consumer(label: string): string {
  const dir = tempDir(label);
  mkdirSync(join(dir, 'node_modules'), { recursive: true });
  symlinkSync(root, join(dir, 'node_modules/imagecast'), 'dir');
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: `${label}-consumer`, type: 'module', private: true }));
  return dir;
}

describe('package exports', () => {
  it('imports the SDK as imagecast/sdk and reads imagecast/package.json, by package name', () => {
    const dir = consumer('exports');
    writeFileSync(
      join(dir, 'main.js'),
      `import { createRequire } from 'node:module';
import * as sdk from 'imagecast/sdk';
const { version } = createRequire(import.meta.url)('imagecast/package.json');
const deep = await import('imagecast/dist/client/sdk/index.js').then(() => 'loaded', (e) => e.code);
console.log(JSON.stringify({ names: Object.keys(sdk), version, deep }));`,
    );
    const run = spawnSync(process.execPath, ['main.js'], { cwd: dir, encoding: 'utf8' });
    assert.equal(run.status, 0, run.stderr);
    const seen = JSON.parse(run.stdout) as { names: string[]; version: string; deep: string };
    for (const name of ['ImagecastClient', 'ImagecastGateway', 'InvalidJobError', 'GatewayError', 'ReleaseAlreadyRunningError', 'payloadKeysFromEnv'])
      assert.ok(seen.names.includes(name), `imagecast/sdk exports ${name}`);
    assert.equal(seen.version, pkg.version);
    assert.equal(seen.deep, 'ERR_PACKAGE_PATH_NOT_EXPORTED', 'only the documented entry points are public');
  });

  it('puts imagecast and imagecast-gateway on PATH with npm link, and they keep working after a rebuild drops exec bits', () => {
    const prefix = tempDir('npm-link-prefix');
    execFileSync('npm', ['link', '--no-audit', '--no-fund'], {
      cwd: root,
      env: { ...process.env, npm_config_prefix: prefix, npm_config_offline: 'true' },
      stdio: 'ignore',
    });
    const env = { ...process.env, PATH: `${join(prefix, 'bin')}:${process.env.PATH}` };
    const version = spawnSync('imagecast', ['--version'], { env, encoding: 'utf8' });
    assert.equal(version.status, 0, version.stderr);
    assert.equal(version.stdout.trim(), pkg.version);
    const help = spawnSync('imagecast-gateway', ['--help'], { env, encoding: 'utf8' });
    assert.equal(help.status, 0, help.stderr);
    assert.match(help.stdout, /--tls-cert <file>/);
    // The bins are committed entry points, not files in dist/ (which `npm run build` recreates mode 644).
    for (const bin of Object.values(pkg.bin)) assert.match(bin, /^bin\//);
  });
});
