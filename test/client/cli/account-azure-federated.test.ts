// `imagecast account azure add --federated`: a keyless (workload identity) Azure account, as
// people add it, with the compiled CLI as a child process against a real PostgreSQL.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type pg from 'pg';
import { createPool } from '../../../infra/db/pool.js';
import { runCli } from '../../support/cli-process.js';
import { freshDatabaseUrl, tempDir } from '../../support/stack.js';

const TENANT = '72f988bf-86f1-41af-91ab-2d7cd011db47';
const CLIENT = '0c3e1f2a-5b6d-4c7e-8f90-a1b2c3d4e5f6';
const SUBSCRIPTION = '3f2a9c4e-1b7d-4e8a-9c2f-5d6e7f8a9b0c';
const TOKEN_FILE = '/var/run/secrets/azure/tokens/azure-identity-token';

describe('imagecast account azure add --federated (CLI, PostgreSQL)', () => {
  let databaseUrl: string;
  let pool: pg.Pool;
  const keysFile = join(tempDir('cli-azure-federated'), 'keys.json');
  before(async () => {
    databaseUrl = await freshDatabaseUrl('cli-azure-federated');
    pool = createPool(databaseUrl);
    writeFileSync(
      keysFile,
      JSON.stringify({ current: 'k1', keys: { k1: randomBytes(32).toString('base64') } }),
    );
  });
  after(async () => pool?.end());

  const run = (args: string[]) =>
    runCli(args, {
      ...process.env,
      IMAGECAST_DATABASE_URL: databaseUrl,
      IMAGECAST_MASTER_KEYS_FILE: keysFile,
      IMAGECAST_MASTER_KEY: '',
    });
  const settings = (name: string) => [
    'account',
    'azure',
    'add',
    '--name',
    name,
    '--region',
    'westeurope',
    '--source-container',
    'images',
    '--source-resource-group',
    'rg',
    '--source-storage-account',
    'imgs',
  ];
  const ids = ['--tenant-id', TENANT, '--client-id', CLIENT, '--subscription-id', SUBSCRIPTION];

  it('adds a workload identity account: show and list tell its kind and file, and nothing secret is stored', async () => {
    const added = await run([
      ...settings('keyless'),
      '--federated',
      ...ids,
      '--federated-token-file',
      TOKEN_FILE,
    ]);
    assert.equal(added.status, 0, added.stderr);
    assert.match(
      added.stdout,
      /^added azure account keyless \(westeurope\): workload identity \(keyless\), sealed with master key k1$/m,
    );

    const shown = await run(['account', 'azure', 'show', '--name', 'keyless']);
    assert.equal(shown.status, 0, shown.stderr);
    assert.match(shown.stdout, /credentials\.kind: workload identity \(keyless\)/);
    assert.match(shown.stdout, new RegExp(`credentials\\.federated_token_file: ${TOKEN_FILE}`));
    assert.match(shown.stdout, new RegExp(`credentials\\.clientId: ${CLIENT}`));
    assert.doesNotMatch(shown.stdout, /clientSecret|stored, encrypted/, 'there is no secret to speak of');

    const json = await run(['account', 'azure', 'show', '--name', 'keyless', '--json']);
    assert.equal(json.status, 0, json.stderr);
    assert.deepEqual(JSON.parse(json.stdout).credentials, {
      kind: 'workload identity (keyless)',
      clientId: CLIENT,
      tenantId: TENANT,
      subscriptionId: SUBSCRIPTION,
      federated_token_file: TOKEN_FILE,
    });
    const listed = await run(['account', 'azure', 'list', '--json']);
    assert.equal(JSON.parse(listed.stdout)[0].credentials.kind, 'workload identity (keyless)');

    const other = await run([
      ...settings('keyless-gov'),
      '--federated',
      ...ids,
      '--federated-token-file',
      TOKEN_FILE,
      '--active-directory-endpoint-url',
      'https://login.microsoftonline.us',
      '--resource-manager-endpoint-url',
      'https://management.usgovcloudapi.net',
      '--json',
    ]);
    assert.equal(other.status, 0, other.stderr);
    assert.equal(JSON.parse(other.stdout).name, 'keyless-gov');
    assert.equal((await run(['account', 'azure', 'delete', '--name', 'keyless-gov'])).status, 0);
  });

  it('refuses bad input with exit 2, naming the flag or the field', async () => {
    const sp = join(tempDir('cli-azure-federated'), 'sp.json');
    writeFileSync(sp, '{}');
    const bad: Array<[string[], RegExp]> = [
      [
        ['--federated'],
        /--federated: needs --tenant-id GUID, --client-id GUID, --subscription-id GUID, --federated-token-file PATH/,
      ],
      [
        ['--federated-token-file', TOKEN_FILE, '--tenant-id', TENANT],
        /--federated: needs --client-id GUID, --subscription-id GUID$/m,
      ],
      [
        ['--federated', ...ids, '--federated-token-file', TOKEN_FILE, '--credentials', sp],
        /--credentials: not with --federated/,
      ],
      [
        ['--federated', ...ids, '--federated-token-file', 'tokens/azure'],
        /\$\.credentials\.federated_token_file: an absolute path/,
      ],
      [
        [
          '--federated',
          ...ids.slice(0, 4),
          '--subscription-id',
          'sub-1',
          '--federated-token-file',
          TOKEN_FILE,
        ],
        /\$\.credentials\.subscriptionId: the subscription id: a GUID/,
      ],
      [
        [
          '--federated',
          ...ids,
          '--federated-token-file',
          TOKEN_FILE,
          '--active-directory-endpoint-url',
          'login',
        ],
        /\$\.credentials\.activeDirectoryEndpointUrl: /,
      ],
    ];
    for (const [flags, message] of bad) {
      const ran = await run([...settings('keyless-bad'), ...flags]);
      assert.equal(ran.status, 2, `${flags.join(' ')}: ${ran.stderr}`);
      assert.match(ran.stderr, message, flags.join(' '));
    }
    const json = await run([...settings('keyless-bad'), '--federated', '--json']);
    assert.equal(json.status, 2);
    assert.match(JSON.parse(json.stdout).error.message, /--federated: needs --tenant-id/);
    const { rows } = await pool.query("SELECT count(*)::int AS n FROM accounts WHERE name = 'keyless-bad'");
    assert.equal(rows[0].n, 0, 'nothing stored');
  });
});
