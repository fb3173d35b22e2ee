// `imagecast account` and `imagecast keys` as people run them: the compiled CLI as a child
// process, against a real PostgreSQL.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type pg from 'pg';
import { createPool } from '../../../infra/db/pool.js';
import { TEST_GCE_KEY } from '../../support/gce-key.js';
import { freshDatabaseUrl, tempDir } from '../../support/stack.js';

const cli = fileURLToPath(new URL('../../../client/cli/main.js', import.meta.url));
const SECRET = `cli/${randomBytes(16).toString('hex')}`;
const PRIVATE_KEY = `-----BEGIN PRIVATE KEY-----\n${randomBytes(48).toString('base64')}\n-----END PRIVATE KEY-----\n`;

interface Ran {
  status: number | null;
  stdout: string;
  stderr: string;
}

describe('imagecast account / keys (CLI, PostgreSQL)', () => {
  let databaseUrl: string;
  let pool: pg.Pool;
  const dir = tempDir('cli-accounts');
  const k1 = randomBytes(32).toString('base64');
  const k2 = randomBytes(32).toString('base64');
  const keysFile = join(dir, 'keys.json');
  before(async () => {
    databaseUrl = await freshDatabaseUrl('cli-accounts');
    pool = createPool(databaseUrl);
    writeFileSync(keysFile, JSON.stringify({ current: 'k1', keys: { k1 } }));
  });
  after(async () => pool?.end());

  /** Runs the CLI (async: the test process keeps serving nothing, but stdin must be piped). */
  const run = (args: string[], input?: string): Promise<Ran> =>
    new Promise((resolve) => {
      const child = spawn(process.execPath, [cli, ...args], {
        env: { ...process.env, IMAGECAST_DATABASE_URL: databaseUrl, IMAGECAST_MASTER_KEYS_FILE: keysFile, IMAGECAST_MASTER_KEY: '' },
      });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d: Buffer) => (stdout += d));
      child.stderr.on('data', (d: Buffer) => (stderr += d));
      child.stdin.end(input ?? '');
      child.on('close', (status) => resolve({ status, stdout, stderr }));
    });
  const rows = async () => Number((await pool.query('SELECT count(*) FROM accounts')).rows[0].count);

  it('adds an ec2 account with the secret piped in on stdin; show and list never print it', async () => {
    const added = await run(
      ['account', 'ec2', 'add', '--name', 'prod', '--region', 'us-east-1', '--additional-regions', 'eu-west-1,us-west-2', '--group', 'sles', '--access-key-id', 'AKIACLITEST000000001', '--secret-access-key-file', '-'],
      `${SECRET}\n`,
    );
    assert.equal(added.status, 0, added.stderr);
    assert.match(added.stdout, /added ec2 account prod \(aws us-east-1\) group sles: access keys, sealed with master key k1/);
    const shown = await run(['account', 'ec2', 'show', '--name', 'prod']);
    assert.equal(shown.status, 0, shown.stderr);
    assert.match(shown.stdout, /additional_regions: eu-west-1, us-west-2/);
    assert.match(shown.stdout, /credentials.secret_access_key: stored, encrypted/);
    const listed = await run(['account', 'ec2', 'list', '--json']);
    assert.equal((JSON.parse(listed.stdout) as unknown[]).length, 1);
    for (const out of [added, shown, listed]) assert.ok(!(out.stdout + out.stderr).includes(SECRET));
    const { rows: stored } = await pool.query<{ t: string }>('SELECT row_to_json(a)::text AS t FROM accounts a');
    assert.ok(!stored[0]!.t.includes(SECRET));
  });

  it('refuses a secret on the command line, and bad input, with exit code 2, naming the field, storing nothing', async () => {
    const before = await rows();
    const argv = await run(['account', 'ec2', 'add', '--name', 'argv', '--region', 'us-east-1', '--access-key-id', 'AKIACLITEST000000002', '--secret-access-key', SECRET]);
    assert.equal(argv.status, 2);
    assert.match(argv.stderr, /--secret-access-key: secrets are not taken from the command line/);
    const missing = await run(['account', 'ec2', 'add', '--name', 'nocreds']);
    assert.equal(missing.status, 2);
    assert.match(missing.stderr, /\$\.region: /);
    assert.match(missing.stderr, /\$\.credentials: /);
    const unreadable = await run(['account', 'gce', 'add', '--name', 'g', '--bucket', 'b', '--credentials', join(dir, 'absent.json')]);
    assert.equal(unreadable.status, 2);
    assert.match(unreadable.stderr, /--credentials: cannot read .*absent.json: ENOENT/);
    const malformed = join(dir, 'malformed.json');
    writeFileSync(malformed, `{"type": "service_account", "private_key": "${PRIVATE_KEY.slice(0, 40)}`);
    const broken = await run(['account', 'gce', 'add', '--name', 'g', '--bucket', 'b', '--credentials', malformed]);
    assert.equal(broken.status, 2);
    assert.match(broken.stderr, /--credentials: .*malformed.json is not valid JSON/);
    assert.ok(!broken.stderr.includes('BEGIN PRIVATE KEY'), 'the key file is not echoed');
    const wrongKind = join(dir, 'user.json');
    writeFileSync(wrongKind, JSON.stringify({ type: 'authorized_user', client_id: 'x' }));
    const notSa = await run(['account', 'gce', 'add', '--name', 'g', '--bucket', 'b', '--credentials', wrongKind]);
    assert.equal(notSa.status, 2);
    assert.match(notSa.stderr, /\$\.credentials\.type: must be "service_account"/);
    assert.equal(await rows(), before);
  });

  it('adds gce and azure accounts from credential files, updates one, deletes one', async () => {
    const key = join(dir, 'sa.json');
    writeFileSync(key, JSON.stringify({ ...TEST_GCE_KEY, private_key: PRIVATE_KEY }));
    const lonePublisher = await run(['account', 'gce', 'add', '--name', 'gce-prod', '--zone', 'us-east1-b', '--bucket', 'images', '--is-publishing-account', '--credentials', key]);
    assert.equal(lonePublisher.status, 2, 'a publishing account needs a testing account, as in mash');
    assert.match(lonePublisher.stderr, /testing_account/);
    const tester = await run(['account', 'gce', 'add', '--name', 'gce-test', '--zone', 'us-east1-b', '--bucket', 'test-images', '--credentials', key]);
    assert.equal(tester.status, 0, tester.stderr);
    const gce = await run(['account', 'gce', 'add', '--name', 'gce-prod', '--zone', 'us-east1-b', '--bucket', 'images', '--is-publishing-account', '--testing-account', 'gce-test', '--credentials', key]);
    assert.equal(gce.status, 0, gce.stderr);
    const sp = join(dir, 'sp.json');
    // As `az ad sp create-for-rbac --sdk-auth` prints it: GUIDs, the secret and the endpoints.
    const principal = {
      clientId: '3f2b8c4e-1d2a-4b6c-9e8f-0a1b2c3d4e5f',
      clientSecret: SECRET,
      subscriptionId: '0c1d2e3f-4a5b-4c6d-8e7f-9a0b1c2d3e4f',
      tenantId: '7e6d5c4b-3a29-4180-9f1e-2d3c4b5a6978',
      activeDirectoryEndpointUrl: 'https://login.microsoftonline.com',
      resourceManagerEndpointUrl: 'https://management.azure.com/',
    };
    const { tenantId: _t, ...noTenant } = principal;
    writeFileSync(sp, JSON.stringify({ ...noTenant, clientId: 'c', resourceManagerEndpointUrl: 'not a url' }));
    const badPrincipal = await run(['account', 'azure', 'add', '--name', 'az', '--region', 'westeurope', '--source-container', 'images', '--source-resource-group', 'rg', '--source-storage-account', 'Imgs', '--credentials', sp]);
    assert.equal(badPrincipal.status, 2, 'an SDK auth file is checked field by field');
    assert.match(badPrincipal.stderr, /\$\.source_storage_account: a storage account name/);
    assert.match(badPrincipal.stderr, /\$\.credentials\.clientId: the application \(client\) id: a GUID/);
    assert.match(badPrincipal.stderr, /\$\.credentials\.tenantId: /);
    assert.match(badPrincipal.stderr, /\$\.credentials\.resourceManagerEndpointUrl: /);
    assert.ok(!badPrincipal.stderr.includes(SECRET), 'the secret is not echoed');
    writeFileSync(sp, JSON.stringify(principal));
    const azure = await run(['account', 'azure', 'add', '--name', 'az', '--region', 'westeurope', '--source-container', 'images', '--source-resource-group', 'rg', '--source-storage-account', 'imgs', '--credentials', sp]);
    assert.equal(azure.status, 0, azure.stderr);
    const updated = await run(['account', 'gce', 'update', '--name', 'gce-prod', '--zone', 'europe-west1-b', '--json']);
    assert.equal(updated.status, 0, updated.stderr);
    assert.equal(JSON.parse(updated.stdout).settings.zone, 'europe-west1-b');
    assert.equal(JSON.parse(updated.stdout).settings.is_publishing_account, true);
    const deleted = await run(['account', 'azure', 'delete', '--name', 'az']);
    assert.equal(deleted.status, 0, deleted.stderr);
    const gone = await run(['account', 'azure', 'show', '--name', 'az']);
    assert.equal(gone.status, 2);
    assert.match(gone.stderr, /no Azure account named "az"/);
    const { rows: stored } = await pool.query<{ t: string }>('SELECT row_to_json(a)::text AS t FROM accounts a');
    assert.ok(stored.every((r) => !r.t.includes(SECRET) && !r.t.includes('BEGIN PRIVATE KEY')));
  });

  it('rotates to a new master key; accounts stay readable with only the new key', async () => {
    writeFileSync(keysFile, JSON.stringify({ current: 'k2', keys: { k1, k2 } }));
    const rotated = await run(['keys', 'rotate']);
    assert.equal(rotated.status, 0, rotated.stderr);
    assert.match(rotated.stdout, /re-wrapped 3 account\(s\) with master key k2/);
    writeFileSync(keysFile, JSON.stringify({ current: 'k2', keys: { k2 } }));
    const shown = await run(['account', 'ec2', 'show', '--name', 'prod']);
    assert.equal(shown.status, 0, shown.stderr);
    assert.match(shown.stdout, /master key: k2/);
    const generated = await run(['keys', 'generate']);
    assert.match(generated.stdout, /^k-[0-9a-f]{8}  [A-Za-z0-9+/]{43}=\n$/);
    const audit = await pool.query<{ action: string }>("SELECT action FROM audit_log WHERE action = 'keys.rotate'");
    assert.equal(audit.rowCount, 1);
  });

  it('keys generate and token revoke speak JSON with --json, errors included', async () => {
    const generated = JSON.parse((await run(['keys', 'generate', '--json'])).stdout) as { keyId: string; key: string };
    assert.match(generated.keyId, /^k-[0-9a-f]{8}$/);
    assert.equal(Buffer.from(generated.key, 'base64').length, 32);
    const created = JSON.parse((await run(['token', 'create', '--scope', 'release:local:test', '--ttl', '1h', '--json'])).stdout) as { id: string };
    const revoked = await run(['token', 'revoke', created.id, '--json']);
    assert.equal(revoked.status, 0, revoked.stderr);
    assert.deepEqual(JSON.parse(revoked.stdout), { revoked: created.id });
    const missing = await run(['account', 'ec2', 'show', '--name', 'nobody', '--json']);
    assert.equal(missing.status, 2, missing.stderr);
    const { error } = JSON.parse(missing.stdout) as { error: { code: string; message: string } };
    assert.equal(error.code, 'invalid_input');
    assert.match(error.message, /nobody/);
  });

  it('adds a keyless (web identity) ec2 account: nothing secret read or stored; bad combinations name the flag', async () => {
    const keyless = ['account', 'ec2', 'add', '--name', 'keyless', '--region', 'us-east-1', '--role-arn', 'arn:aws:iam::123456789012:role/imagecast'];
    const added = await run([...keyless, '--federated', '--web-identity-token-file', '/var/run/secrets/token', '--session-duration', '2h']);
    assert.equal(added.status, 0, added.stderr);
    assert.match(added.stdout, /added ec2 account keyless .*web identity \(keyless\)/);
    const shown = await run(['account', 'ec2', 'show', '--name', 'keyless', '--json']);
    assert.equal(shown.status, 0, shown.stderr);
    assert.match(shown.stdout, /"web_identity_token_file": "\/var\/run\/secrets\/token"/);
    const bad: Array<[string[], RegExp]> = [
      [[...keyless, '--federated'], /--federated: needs --role-arn ARN and --web-identity-token-file PATH/],
      [[...keyless, '--web-identity-token-file', '/t', '--external-id', 'x'], /--external-id: not with --federated/],
      [[...keyless, '--web-identity-token-file', 'relative/token'], /web_identity_token_file: an absolute path/],
      [[...keyless, '--web-identity-token-file', '/t', '--session-duration', '5m'], /session_duration_seconds: at least 900/],
      [[...keyless, '--web-identity-token-file', '/t', '--session-duration', 'long'], /--session-duration: expected a duration such as 30m or 1h, got "long"/],
    ];
    for (const [args, message] of bad) {
      const ran = await run(args.map((a) => (a === 'keyless' ? 'keyless-bad' : a)));
      assert.equal(ran.status, 2, `${args.join(' ')}: ${ran.stderr}`);
      assert.match(ran.stderr, message, args.join(' '));
    }
    await run(['account', 'ec2', 'delete', '--name', 'keyless']);
  });
});
