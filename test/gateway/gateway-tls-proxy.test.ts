// The gateway binary over real HTTPS (a self-signed certificate made with openssl) and behind a
// trusted proxy: X-Forwarded-For decides the client address — for tokens' --source-cidr and
// the audit log — only when the TCP peer is a proxy named with --trust-proxy.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import type pg from 'pg';
import { startReleaseHarness, type ReleaseHarness } from '../support/release-harness.js';
import { createPool } from '../../infra/db/pool.js';
import { CiTokens } from '../../activities/accounts/ci-tokens.js';
import { AuditLog } from '../../activities/accounts/audit-log.js';
import { startReleaseGateway, type ReleaseGateway } from '../../gateway/release-gateway.js';
import { tempDir } from '../support/stack.js';

const gatewayBin = fileURLToPath(new URL('../../gateway/main.js', import.meta.url));
const cli = fileURLToPath(new URL('../../client/cli/main.js', import.meta.url));

interface Answer {
  status: number;
  body: Record<string, unknown>;
}

/** One HTTPS request with node's own client, trusting only `ca`. */
function httpsJson(url: string, ca: Buffer | undefined, init: { method: string; token: string; body?: unknown; forwardedFor?: string }): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      {
        method: init.method,
        ca,
        headers: {
          authorization: `Bearer ${init.token}`,
          'content-type': 'application/json',
          ...(init.forwardedFor ? { 'x-forwarded-for': init.forwardedFor } : {}),
        },
      },
      (res) => {
        let text = '';
        res.on('data', (d: Buffer) => (text += d));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) as Record<string, unknown> }));
      },
    );
    req.on('error', reject);
    req.end(init.body === undefined ? undefined : JSON.stringify(init.body));
  });
}

describe('gateway over TLS, behind a trusted proxy', () => {
  let h: ReleaseHarness;
  let pool: pg.Pool;
  let tokens: CiTokens;
  let child: ChildProcess;
  let url: string;
  let direct: ReleaseGateway;
  const dir = tempDir('gateway-tls');
  const certFile = join(dir, 'gateway.crt');
  const keyFile = join(dir, 'gateway.key');
  let ca: Buffer;

  before(async () => {
    execFileSync('openssl', [
      'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1',
      '-keyout', keyFile, '-out', certFile, '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1',
    ], { stdio: 'ignore' });
    ca = readFileSync(certFile);
    h = await startReleaseHarness('gwtls');
    pool = createPool(h.databaseUrl);
    tokens = new CiTokens(pool);
    await h.publish('1');
    child = spawn(process.execPath, [gatewayBin, '--port', '0', '--tls-cert', certFile, '--tls-key', keyFile, '--trust-proxy', 'loopback'], {
      env: { ...process.env, IMAGECAST_DATABASE_URL: h.databaseUrl, IMAGECAST_TEMPORAL_ADDRESS: h.temporalAddress, IMAGECAST_QUEUE_PREFIX: h.queuePrefix },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    url = await new Promise<string>((resolve, reject) => {
      child.once('exit', (code) => reject(new Error(`gateway exited with ${code}`)));
      createInterface({ input: child.stdout! }).once('line', resolve);
    });
    // The same gateway without --trust-proxy, for comparison.
    direct = await startReleaseGateway({ pool, client: h.client });
  });
  after(async () => {
    child?.kill('SIGTERM');
    await direct?.stop();
    await pool?.end();
    await h?.stop();
  });

  const job = (name: string) => ({ ...h.job(), cloud_image_name: `${name}-v{date}-b{release}`, last_service: 'upload' });
  const ciToken = async (sourceCidr?: string) =>
    (await tokens.create({ scope: { cloud: 'local', target: 'test' }, ttlSeconds: 600, createdBy: 'test', sourceCidr })).token;

  it('speaks HTTPS with the given certificate, and a client that does not trust it is refused', async () => {
    assert.match(url, /^https:\/\/127\.0\.0\.1:\d+$/);
    const token = await ciToken();
    const missing = await httpsJson(`${url}/v1/releases/no-such-release`, ca, { method: 'GET', token });
    assert.equal(missing.status, 404);
    await assert.rejects(httpsJson(`${url}/v1/releases/x`, undefined, { method: 'GET', token }), /self[- ]signed certificate/);
  });

  it('takes the client address from X-Forwarded-For sent by the trusted proxy, for --source-cidr and the audit log', async () => {
    const token = await ciToken('10.20.0.0/16');
    const started = await httpsJson(`${url}/v1/releases`, ca, { method: 'POST', token, body: job('gwtls-proxied'), forwardedFor: '203.0.113.9, 10.20.1.2' });
    assert.equal(started.status, 201, JSON.stringify(started.body));
    const [entry] = await new AuditLog(pool).entries({ action: 'release.start', limit: 1 });
    assert.equal(entry?.outcome, 'ok');
    assert.equal(entry?.detail?.sourceIp, '10.20.1.2');
    assert.equal(entry?.detail?.releaseId, started.body.releaseId);
  });

  it('ignores X-Forwarded-For when the peer is not a trusted proxy', async () => {
    const token = await ciToken('10.20.0.0/16');
    const response = await fetch(new URL('/v1/releases', direct.url), {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'x-forwarded-for': '10.20.1.2' },
      body: JSON.stringify(job('gwtls-spoofed')),
    });
    assert.equal(response.status, 403);
    assert.match(((await response.json()) as { error: string }).error, /is for requests from 10\.20\.0\.0\/16, not from 127\.0\.0\.1/);
  });

  it('the CLI starts a release through the HTTPS gateway when Node trusts the CA (NODE_EXTRA_CA_CERTS)', async () => {
    const jobFile = join(dir, 'job.json');
    writeFileSync(jobFile, JSON.stringify(job('gwtls-cli')));
    const run = spawnSync(process.execPath, [cli, 'job', 'add', 'local', jobFile, '--gateway', url, '--json'], {
      encoding: 'utf8',
      env: { ...process.env, IMAGECAST_TOKEN: await ciToken(), NODE_EXTRA_CA_CERTS: certFile },
    });
    assert.equal(run.status, 0, run.stderr + run.stdout);
    assert.match(JSON.parse(run.stdout).releaseId as string, /gwtls-cli/);
  });

  it('refuses a certificate without its key, naming the option, before it listens', () => {
    const run = spawnSync(process.execPath, [gatewayBin, '--port', '0', '--tls-cert', certFile, '--trust-proxy', 'proxy.example'], {
      encoding: 'utf8',
      env: { ...process.env, IMAGECAST_DATABASE_URL: h.databaseUrl },
    });
    assert.equal(run.status, 2);
    assert.match(run.stderr, /gateway config: --tls-key: required with --tls-cert; --trust-proxy: expected loopback, an IP address or a CIDR block such as 10\.0\.0\.0\/8, got "proxy.example"/);
  });

  it('connects to Temporal with the workers\' TLS settings (IMAGECAST_TEMPORAL_TLS_*), naming a file it cannot read', () => {
    const run = spawnSync(process.execPath, [gatewayBin, '--port', '0'], {
      encoding: 'utf8',
      // A gateway that ignored the settings would connect in plaintext and serve: stop it then.
      timeout: 60_000,
      env: {
        ...process.env,
        IMAGECAST_DATABASE_URL: h.databaseUrl,
        IMAGECAST_TEMPORAL_ADDRESS: h.temporalAddress,
        IMAGECAST_TEMPORAL_TLS_CERT: join(dir, 'missing-client.pem'),
        IMAGECAST_TEMPORAL_TLS_KEY: keyFile,
      },
    });
    assert.equal(run.status, 2);
    assert.match(run.stderr, /gateway config: temporal: tls\.clientCertFile: cannot read .*missing-client\.pem: ENOENT/);
  });
});
