import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { generatePayloadKey } from '../../../infra/codec/payload-keys.js';

const main = fileURLToPath(new URL('../../../infra/codec/codec-server-main.js', import.meta.url));

/** Starts the CLI with only the given environment (plus PATH), collecting its output. */
function run(env: Record<string, string>, args: string[] = []) {
  const child = spawn(process.execPath, [main, ...args], {
    env: { PATH: process.env.PATH ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const output = { stdout: '', stderr: '' };
  child.stdout.on('data', (chunk: Buffer) => (output.stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output.stderr += chunk.toString()));
  return { child, output, exited: once(child, 'exit') as Promise<[number | null, NodeJS.Signals | null]> };
}

describe('codec server command', () => {
  it('exits 2 and says which variables to set when it has no keys', async () => {
    const { output, exited } = run({});
    const [code] = await exited;
    assert.equal(code, 2);
    assert.match(output.stderr, /IMAGECAST_PAYLOAD_KEY or IMAGECAST_PAYLOAD_KEYS_FILE/);
  });

  it('exits 2 on a bad key without printing it', async () => {
    const key = Buffer.from('not quite thirty-two bytes').toString('base64');
    const { output, exited } = run({ IMAGECAST_PAYLOAD_KEY: key });
    const [code] = await exited;
    assert.equal(code, 2);
    assert.match(output.stderr, /IMAGECAST_PAYLOAD_KEY: must be 32 bytes of base64, got 26/);
    assert.ok(!output.stderr.includes(key));
  });

  it('prints its URL, serves /decode with the token, and stops on SIGTERM', async () => {
    const { child, output, exited } = run(
      { IMAGECAST_PAYLOAD_KEY: generatePayloadKey(), IMAGECAST_CODEC_AUTH_TOKEN: 'cli-token' },
      ['--cors-origin', 'http://localhost:8233', '--cors-origin', 'http://localhost:8080'],
    );
    while (!output.stdout.includes('\n')) {
      if (child.exitCode !== null) assert.fail(`exited early: ${output.stderr}`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    const url = output.stdout.trim();
    assert.match(url, /^http:\/\/127\.0\.0\.1:\d+$/);
    const decode = (authorization: string) =>
      fetch(`${url}/decode`, {
        method: 'POST',
        headers: { Authorization: authorization, Origin: 'http://localhost:8080' },
        body: '{"payloads":[]}',
      });
    assert.equal((await decode('Bearer nope')).status, 401);
    const ok = await decode('Bearer cli-token');
    assert.equal(ok.status, 200);
    assert.equal(ok.headers.get('access-control-allow-origin'), 'http://localhost:8080');
    child.kill('SIGTERM');
    const [code] = await exited;
    assert.equal(code, 0);
  });
});
