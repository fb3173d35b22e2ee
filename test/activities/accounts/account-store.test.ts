// The encrypted account store on a real PostgreSQL.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import type pg from 'pg';
import { createPool } from '../../../infra/db/pool.js';
import { migrate } from '../../../infra/db/migrate.js';
import { AccountInputError, AccountStore } from '../../../activities/accounts/account-store.js';
import { AuditLog } from '../../../activities/accounts/audit-log.js';
import { storedAccountDirectory } from '../../../activities/accounts/stored-account-directory.js';
import { keyRingMasterKeys } from '../../../secrets/envelope.js';
import { keyRingFromJson } from '../../../secrets/key-ring.js';
import { freshDatabaseUrl } from '../../support/stack.js';

const SECRET = `wJalrXUtnFEMI/K7MDENG/${randomBytes(12).toString('hex')}`;
const ACCESS_KEY_ID = 'AKIASTORETEST0000001';
const EXTERNAL_ID = `ext-${randomBytes(8).toString('hex')}`;
const [k1, k2] = [randomBytes(32).toString('base64'), randomBytes(32).toString('base64')];
const masterKeys = (current: string, keys: Record<string, string>) => keyRingMasterKeys(keyRingFromJson({ current, keys }, 'keys.json'));

const ec2 = (name: string, overrides: Record<string, unknown> = {}) => ({
  name,
  region: 'us-east-1',
  additional_regions: ['eu-west-1'],
  group: 'prod',
  credentials: { access_key_id: ACCESS_KEY_ID, secret_access_key: SECRET },
  ...overrides,
});

describe('account store (PostgreSQL, envelope encryption)', () => {
  let pool: pg.Pool;
  before(async () => {
    pool = createPool(await freshDatabaseUrl('account-store'));
    await migrate(pool);
  });
  after(async () => pool?.end());

  /** Every row of the accounts and audit tables as text, to search for secrets. */
  const everyRow = async () =>
    (await pool.query<{ t: string }>(`SELECT row_to_json(a)::text AS t FROM accounts a UNION ALL SELECT row_to_json(l)::text FROM audit_log l`)).rows
      .map((r) => r.t)
      .join('\n');

  it('stores credentials sealed: no row holds a secret, get opens them, list and show never show them', async () => {
    const store = new AccountStore(pool, masterKeys('k1', { k1 }), 'test');
    const added = await store.add('ec2', ec2('prod-keys'));
    await store.add('ec2', ec2('prod-role', { credentials: { role_arn: 'arn:aws:iam::123456789012:role/imagecast', external_id: EXTERNAL_ID } }));
    assert.deepEqual(added.credentials, { kind: 'access keys', access_key_id: 'AKIA…0001', secret_access_key: 'stored, encrypted' });
    assert.equal(added.keyId, 'k1');

    const rows = await everyRow();
    for (const secret of [SECRET, EXTERNAL_ID, ACCESS_KEY_ID]) assert.ok(!rows.includes(secret), 'no plaintext credential in the database');
    const listed = JSON.stringify(await store.list('ec2'));
    for (const secret of [SECRET, EXTERNAL_ID, ACCESS_KEY_ID]) assert.ok(!listed.includes(secret), 'list shows no secret');

    const opened = await store.get('ec2', 'prod-keys');
    assert.deepEqual(opened.credentials, { access_key_id: ACCESS_KEY_ID, secret_access_key: SECRET });
    assert.deepEqual(opened.additional_regions, ['eu-west-1']);
    assert.deepEqual((await store.group('ec2', 'prod')).map((a) => a.name), ['prod-keys', 'prod-role']);
    const audit = await new AuditLog(pool).entries({ action: 'account.add' });
    assert.deepEqual(audit.map((e) => e.subject).sort(), ['account:ec2/prod-keys', 'account:ec2/prod-role']);
  });

  it('refuses bad input naming every field and what a setting was given, echoing no credential, and stores nothing', async () => {
    const store = new AccountStore(pool, masterKeys('k1', { k1 }), 'test');
    const count = async () => Number((await pool.query('SELECT count(*) FROM accounts')).rows[0].count);
    const before = await count();
    await assert.rejects(
      store.add('ec2', { name: 'bad', region: 'mars-1', credentials: { access_key_id: 'x', secret_access_key: SECRET } }),
      (e: Error) => {
        assert.ok(e instanceof AccountInputError);
        assert.match(e.message, /\$\.region: an AWS region name/);
        assert.match(e.message, /\$\.region: .*; got string "mars-1"/);
        assert.match(e.message, /\$\.credentials/);
        assert.ok(!e.message.includes(SECRET));
        return true;
      },
    );
    await assert.rejects(
      store.add('gce', { name: 'g', bucket: 'images', credentials: { type: 'service_account', project_id: 'p', private_key_id: 'k', private_key: 'not a pem', client_email: 'me@p.iam.gserviceaccount.com' } }),
      (e: Error) => {
        assert.match(e.message, /\$\.credentials\.private_key: a PEM private key/);
        assert.ok(!e.message.includes('not a pem'), 'a credential is never echoed');
        return true;
      },
    );
    await assert.rejects(store.add('ec2', ec2('prod-keys')), /an ec2 account named "prod-keys" exists already/);
    assert.equal(await count(), before);
  });

  it('updates settings and credentials, and resolves accounts for activities with a short cache', async () => {
    const store = new AccountStore(pool, masterKeys('k1', { k1 }), 'test');
    await store.add('ec2', ec2('changing', { group: 'staging' }));
    let clock = 0;
    const directory = storedAccountDirectory(store, 1000, () => clock);
    assert.equal((await directory.ec2Account('changing')).region, 'us-east-1');
    await store.update('ec2', 'changing', { region: 'us-west-2', credentials: { access_key_id: 'AKIANEWKEY0000000001', secret_access_key: `${SECRET}-new` } });
    assert.equal((await directory.ec2Account('changing')).region, 'us-east-1', 'cached briefly');
    clock += 1001;
    const fresh = await directory.ec2Account('changing');
    assert.equal(fresh.region, 'us-west-2');
    assert.equal('access_key_id' in fresh.credentials && fresh.credentials.access_key_id, 'AKIANEWKEY0000000001');
    await assert.rejects(directory.ec2Account('nobody'), /no EC2 account named "nobody" \(configured: changing, prod-keys, prod-role\)/);
    await assert.rejects(directory.ec2Group('none'), /no EC2 account is in group "none" \(groups: prod, staging\)/);
    await assert.rejects(store.update('ec2', 'changing', { region: 'nowhere' }), /\$\.region/);
    assert.equal((await store.get('ec2', 'changing')).region, 'us-west-2', 'a refused update changes nothing');
    await store.remove('ec2', 'changing');
    await assert.rejects(store.get('ec2', 'changing'), /no EC2 account named "changing"/);
  });

  it('rotates the master key: every account re-wrapped, still usable, the old key no longer needed', async () => {
    const rotating = new AccountStore(pool, masterKeys('k2', { k1, k2 }), 'test');
    const { rewrapped, keyId } = await rotating.rotate();
    assert.equal(keyId, 'k2');
    assert.equal(rewrapped, (await rotating.list()).length);
    assert.ok((await rotating.list()).every((a) => a.keyId === 'k2'));
    assert.equal((await rotating.rotate()).rewrapped, 0, 'nothing left to rotate');
    const newOnly = new AccountStore(pool, masterKeys('k2', { k2 }), 'test');
    const opened = await newOnly.get('ec2', 'prod-keys');
    assert.equal('secret_access_key' in opened.credentials && opened.credentials.secret_access_key, SECRET);
    const oldOnly = new AccountStore(pool, masterKeys('k1', { k1 }), 'test');
    await assert.rejects(oldOnly.get('ec2', 'prod-keys'), /master key "k2" is not in keys.json \(it has: k1\)/);
  });
});
