import type pg from 'pg';
import type { z } from 'zod';
import { accountSchemas, type AccountCloud, type CloudAccount } from '../../schemas/accounts.js';
import { jsonPath, withGiven } from '../../schemas/job/issues.js';
import { openSecret, rewrapSecret, sealSecret, type MasterKeyProvider, type SealedSecret } from '../../secrets/envelope.js';
import { AuditLog } from './audit-log.js';

/** Bad account input: every problem, each naming its field. Carries no input value. */
export class AccountInputError extends Error {
  constructor(
    readonly cloud: AccountCloud,
    readonly problems: string[],
  ) {
    super(`invalid ${cloud} account:\n${problems.map((p) => `  ${p}`).join('\n')}`);
    this.name = 'AccountInputError';
  }
}

/** What `list` and `show` print: the settings and what kind of credentials are stored, never a secret. */
export interface AccountSummary {
  cloud: AccountCloud;
  name: string;
  group?: string;
  settings: Record<string, unknown>;
  credentials: Record<string, string>;
  keyId: string;
  createdAt: Date;
  updatedAt: Date;
}

interface AccountRow {
  cloud: AccountCloud;
  name: string;
  account_group: string | null;
  settings: Record<string, unknown> & { credentials_summary: Record<string, string> };
  secret_ciphertext: Buffer;
  wrapped_data_key: Buffer;
  key_id: string;
  created_at: Date;
  updated_at: Date;
}

/**
 * Cloud accounts in PostgreSQL. The `credentials` of an account are sealed (envelope
 * encryption: a data key per account, wrapped by the master key) before they reach the
 * database; the other settings are plain JSON. Only `get` opens the credentials, for the
 * activities that call the cloud. Every change is written to the audit log.
 */
export class AccountStore {
  private readonly audit: AuditLog;

  constructor(
    private readonly pool: pg.Pool,
    private readonly master: MasterKeyProvider,
    private readonly actor = 'imagecast',
  ) {
    this.audit = new AuditLog(pool);
  }

  /** Validates and stores a new account; a name already taken is refused. */
  async add(cloud: AccountCloud, input: unknown): Promise<AccountSummary> {
    const account = validate(cloud, input);
    const sealed = await this.sealCredentials(cloud, account);
    const { rowCount } = await this.pool.query(
      `INSERT INTO accounts (cloud, name, account_group, settings, secret_ciphertext, wrapped_data_key, key_id)
       VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT DO NOTHING`,
      [cloud, account.name, account.group ?? null, settingsOf(cloud, account), sealed.ciphertext, sealed.wrappedDataKey, sealed.keyId],
    );
    if (rowCount === 0) throw new AccountInputError(cloud, [`$.name: ${cloud === 'gce' ? 'a' : 'an'} ${cloud} account named "${account.name}" exists already (use update)`]);
    await this.audit.record(this.actor, 'account.add', subject(cloud, account.name), 'ok');
    return this.describe(cloud, account.name);
  }

  /**
   * Changes the given fields of an account; `credentials`, when given, replace the stored
   * ones (a new data key is made). The result is validated as a whole before it is stored.
   */
  async update(cloud: AccountCloud, name: string, changes: Record<string, unknown>): Promise<AccountSummary> {
    const current = await this.get(cloud, name);
    if ('name' in changes && changes.name !== name) {
      throw new AccountInputError(cloud, ['$.name: an account cannot be renamed; add a new one and delete this one']);
    }
    const account = validate(cloud, { ...current, ...changes });
    const sealed = await this.sealCredentials(cloud, account);
    await this.pool.query(
      `UPDATE accounts SET account_group = $3, settings = $4, secret_ciphertext = $5, wrapped_data_key = $6,
              key_id = $7, updated_at = now()
        WHERE cloud = $1 AND name = $2`,
      [cloud, name, account.group ?? null, settingsOf(cloud, account), sealed.ciphertext, sealed.wrappedDataKey, sealed.keyId],
    );
    await this.audit.record(this.actor, 'account.update', subject(cloud, name), 'ok', {
      fields: Object.keys(changes).sort(),
    });
    return this.describe(cloud, name);
  }

  async remove(cloud: AccountCloud, name: string): Promise<void> {
    const { rowCount } = await this.pool.query('DELETE FROM accounts WHERE cloud = $1 AND name = $2', [cloud, name]);
    if (rowCount === 0) throw await this.unknown(cloud, name);
    await this.audit.record(this.actor, 'account.delete', subject(cloud, name), 'ok');
  }

  async list(cloud?: AccountCloud): Promise<AccountSummary[]> {
    const { rows } = await this.pool.query<AccountRow>(
      'SELECT * FROM accounts WHERE $1::text IS NULL OR cloud = $1 ORDER BY cloud, name',
      [cloud ?? null],
    );
    return rows.map(summaryOf);
  }

  async describe(cloud: AccountCloud, name: string): Promise<AccountSummary> {
    return summaryOf(await this.row(cloud, name));
  }

  /** The whole account, credentials opened. For the activities that call the cloud; never print it. */
  async get<C extends AccountCloud>(cloud: C, name: string): Promise<CloudAccount<C>> {
    return this.open(await this.row(cloud, name)) as Promise<CloudAccount<C>>;
  }

  /** The accounts of a group, by name. */
  async group<C extends AccountCloud>(cloud: C, group: string): Promise<Array<CloudAccount<C>>> {
    const { rows } = await this.pool.query<AccountRow>(
      'SELECT * FROM accounts WHERE cloud = $1 AND account_group = $2 ORDER BY created_at, name',
      [cloud, group],
    );
    return Promise.all(rows.map((r) => this.open(r) as Promise<CloudAccount<C>>));
  }

  async names(cloud: AccountCloud): Promise<{ accounts: string[]; groups: string[] }> {
    const { rows } = await this.pool.query<{ name: string; account_group: string | null }>(
      'SELECT name, account_group FROM accounts WHERE cloud = $1 ORDER BY name',
      [cloud],
    );
    const groups = [...new Set(rows.flatMap((r) => (r.account_group ? [r.account_group] : [])))].sort();
    return { accounts: rows.map((r) => r.name), groups };
  }

  /**
   * Re-wraps every account's data key with the current master key (the secrets themselves
   * are not touched). Each row is updated in its own statement, guarded by the key id it
   * was read with, so a concurrent update is never overwritten; run again to finish.
   */
  async rotate(): Promise<{ rewrapped: number; keyId: string }> {
    const keyId = this.master.currentKeyId;
    const { rows } = await this.pool.query<AccountRow>('SELECT * FROM accounts WHERE key_id <> $1', [keyId]);
    let rewrapped = 0;
    for (const row of rows) {
      const sealed = await rewrapSecret(this.master, sealedOf(row), subject(row.cloud, row.name));
      const { rowCount } = await this.pool.query(
        `UPDATE accounts SET wrapped_data_key = $3, key_id = $4
          WHERE cloud = $1 AND name = $2 AND key_id = $5 AND wrapped_data_key = $6`,
        [row.cloud, row.name, sealed.wrappedDataKey, sealed.keyId, row.key_id, row.wrapped_data_key],
      );
      rewrapped += rowCount ?? 0;
    }
    await this.audit.record(this.actor, 'keys.rotate', keyId, 'ok', { rewrapped });
    return { rewrapped, keyId };
  }

  private async sealCredentials(cloud: AccountCloud, account: CloudAccount): Promise<SealedSecret> {
    const plaintext = Buffer.from(JSON.stringify(account.credentials), 'utf8');
    try {
      return await sealSecret(this.master, plaintext, subject(cloud, account.name));
    } finally {
      plaintext.fill(0);
    }
  }

  private async open(row: AccountRow): Promise<CloudAccount> {
    const plaintext = await openSecret(this.master, sealedOf(row), subject(row.cloud, row.name));
    const { credentials_summary: _, ...settings } = row.settings;
    return { ...settings, credentials: JSON.parse(plaintext.toString('utf8')) } as CloudAccount;
  }

  private async row(cloud: AccountCloud, name: string): Promise<AccountRow> {
    const { rows } = await this.pool.query<AccountRow>('SELECT * FROM accounts WHERE cloud = $1 AND name = $2', [cloud, name]);
    if (!rows[0]) throw await this.unknown(cloud, name);
    return rows[0];
  }

  private async unknown(cloud: AccountCloud, name: string): Promise<Error> {
    const { accounts } = await this.names(cloud);
    return new UnknownAccountError(cloud, name, accounts);
  }
}


/** How people write the clouds' names ("AZURE" reads as a shout). */
const CLOUD_LABELS = { ec2: 'EC2', gce: 'GCE', azure: 'Azure' } as const;
export class UnknownAccountError extends Error {
  constructor(
    readonly cloud: AccountCloud,
    readonly account: string,
    readonly configured: string[],
  ) {
    super(`no ${CLOUD_LABELS[cloud as keyof typeof CLOUD_LABELS] ?? cloud} account named "${account}" (configured: ${configured.join(', ') || 'none'})`);
    this.name = 'UnknownAccountError';
  }
}

function validate(cloud: AccountCloud, input: unknown): CloudAccount {
  const parsed = accountSchemas[cloud].safeParse(input, { reportInput: true });
  // What was given is said for settings only: nothing under `credentials` (or the whole
  // input, which holds them) is ever echoed, so no secret reaches the error.
  const describe = (i: z.core.$ZodIssue) => (i.path.length > 0 && i.path[0] !== 'credentials' ? withGiven(i) : i.message);
  if (!parsed.success) throw new AccountInputError(cloud, parsed.error.issues.map((i) => `${jsonPath(i.path)}: ${describe(i)}`));
  return parsed.data;
}

function subject(cloud: AccountCloud, name: string): string {
  return `account:${cloud}/${name}`;
}

/** The plain settings stored as JSON: everything but the credentials, plus what kind they are. */
function settingsOf(cloud: AccountCloud, account: CloudAccount): Record<string, unknown> {
  const { credentials, ...settings } = account;
  return { ...settings, credentials_summary: describeCredentials(cloud, credentials as Record<string, unknown>) };
}

/** What may be shown about credentials: their kind and identifiers, never a secret part. */
function describeCredentials(cloud: AccountCloud, c: Record<string, unknown>): Record<string, string> {
  const text = (v: unknown) => String(v ?? '');
  if (cloud === 'ec2') {
    if ('web_identity_token_file' in c) {
      return { kind: 'web identity (keyless)', role_arn: text(c.role_arn), web_identity_token_file: text(c.web_identity_token_file) };
    }
    if ('role_arn' in c) return { kind: 'assumed role', role_arn: text(c.role_arn), external_id: 'stored, encrypted' };
    const id = text(c.access_key_id);
    return { kind: 'access keys', access_key_id: `${id.slice(0, 4)}…${id.slice(-4)}`, secret_access_key: 'stored, encrypted' };
  }
  if (cloud === 'gce') {
    if (c.type === 'external_account') return describeGceFederation(c);
    return { kind: 'service account', client_email: text(c.client_email), project_id: text(c.project_id), private_key: 'stored, encrypted' };
  }
  if ('federated_token_file' in c) {
    return {
      kind: 'workload identity (keyless)',
      clientId: text(c.clientId),
      tenantId: text(c.tenantId),
      subscriptionId: text(c.subscriptionId),
      federated_token_file: text(c.federated_token_file),
    };
  }
  return {
    kind: 'service principal',
    clientId: text(c.clientId),
    tenantId: text(c.tenantId),
    subscriptionId: text(c.subscriptionId),
    clientSecret: 'stored, encrypted',
  };
}

/** A keyless GCE account: its provider and token file (nothing in it is secret; the token is in the file, not here). */
function describeGceFederation(c: Record<string, unknown>): Record<string, string> {
  const source = (c.credential_source ?? {}) as Record<string, unknown>;
  const impersonated = /serviceAccounts\/([^/:]+):generateAccessToken$/.exec(String(c.service_account_impersonation_url ?? ''))?.[1];
  return {
    kind: 'workload identity federation (keyless)',
    audience: String(c.audience ?? ''),
    token_file: String(source.file ?? ''),
    ...(impersonated && { service_account: impersonated }),
  };
}

function summaryOf(row: AccountRow): AccountSummary {
  const { credentials_summary, ...settings } = row.settings;
  return {
    cloud: row.cloud,
    name: row.name,
    ...(row.account_group && { group: row.account_group }),
    settings,
    credentials: credentials_summary,
    keyId: row.key_id,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

function sealedOf(row: AccountRow): SealedSecret {
  return { ciphertext: row.secret_ciphertext, wrappedDataKey: row.wrapped_data_key, keyId: row.key_id };
}
