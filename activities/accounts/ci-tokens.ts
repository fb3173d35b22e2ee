import { createHash, randomBytes } from 'node:crypto';
import { isIP } from 'node:net';
import type pg from 'pg';
import { AuditLog } from './audit-log.js';

/** `release:<cloud>:<account-or-group>`: what a token may start (`revoke:…`: what it may revoke). */
export interface TokenScope {
  cloud: string;
  target: string;
  /** What the token may do there: start releases (the default) or revoke them. */
  action?: TokenAction;
}

export type TokenAction = 'release' | 'revoke';

export function parseScope(text: string): TokenScope {
  const match = /^release:([a-z0-9]+):([A-Za-z0-9][A-Za-z0-9._-]{0,63})$/.exec(text);
  if (!match) throw new TokenInputError(`--scope: "${text}" is not release:<cloud>:<account-or-group>`);
  return { cloud: match[1]!, target: match[2]! };
}

/** A CI token's scope: `release:<cloud>:<account-or-group>` starts releases, `revoke:…` revokes them. */
export function parseTokenScope(text: string): TokenScope {
  const match = /^(release|revoke):([a-z0-9]+):([A-Za-z0-9][A-Za-z0-9._-]{0,63})$/.exec(text);
  if (!match) throw new TokenInputError(`--scope: "${text}" is not release:<cloud>:<account-or-group> or revoke:<cloud>:<account-or-group>`);
  return { action: match[1] as TokenAction, cloud: match[2]!, target: match[3]! };
}

export interface CreateTokenInput {
  scope: TokenScope;
  ttlSeconds: number;
  maxUses?: number;
  imagePrefix?: string;
  sourceCidr?: string;
  description?: string;
  createdBy: string;
}

export interface TokenInfo {
  id: string;
  scope: string;
  description: string | null;
  imagePrefix: string | null;
  sourceCidr: string | null;
  maxUses: number | null;
  uses: number;
  expiresAt: Date;
  revokedAt: Date | null;
  createdAt: Date;
  createdBy: string;
}

/** What a release asks a token for: checked against every limit the token carries. */
export interface ReleaseRequest {
  cloud: string;
  /** Every account and group name the job uses. */
  targets: string[];
  /** `cloud_image_name` as written. */
  imageName: string;
  sourceIp: string;
}

export class TokenInputError extends Error {
  override name = 'TokenInputError';
}

/** A token refused: the reason says which limit, never the token. */
export class TokenRefused extends Error {
  override name = 'TokenRefused';
  constructor(
    readonly reason: string,
    readonly tokenId?: string,
  ) {
    super(`token refused: ${reason}`);
  }
}

const TOKEN_PREFIX = 'icast';
const MAX_TTL_SECONDS = 30 * 24 * 3600;

/**
 * Short-lived, scoped tokens CI starts releases with instead of cloud credentials (the Linaro
 * publishing model). The token is printed once; only its SHA-256 is stored, so the database
 * cannot give it away. Every use, allowed or refused, is in the audit log.
 */
export class CiTokens {
  private readonly audit: AuditLog;

  constructor(private readonly pool: pg.Pool) {
    this.audit = new AuditLog(pool);
  }

  async create(input: CreateTokenInput): Promise<{ token: string; info: TokenInfo }> {
    if (!Number.isInteger(input.ttlSeconds) || input.ttlSeconds <= 0 || input.ttlSeconds > MAX_TTL_SECONDS)
      throw new TokenInputError(`--ttl: between 1 s and 30 days, got ${input.ttlSeconds} s`);
    if (input.maxUses !== undefined && (!Number.isInteger(input.maxUses) || input.maxUses < 1))
      throw new TokenInputError(`--max-uses: a whole number ≥ 1, got ${input.maxUses}`);
    if (input.sourceCidr !== undefined && !isCidr(input.sourceCidr))
      throw new TokenInputError(`--source-cidr: "${input.sourceCidr}" is not an address block such as 10.0.0.0/8`);
    const id = randomBytes(6).toString('hex');
    const token = `${TOKEN_PREFIX}_${id}_${randomBytes(32).toString('base64url')}`;
    const { rows } = await this.pool.query<TokenRow>(
      `INSERT INTO ci_tokens (id, token_sha256, description, scope_cloud, scope_target, image_prefix, source_cidr,
                              max_uses, expires_at, created_by, scope_action)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, now() + make_interval(secs => $9), $10, $11) RETURNING *`,
      [id, hashOf(token), input.description ?? null, input.scope.cloud, input.scope.target, input.imagePrefix ?? null,
        input.sourceCidr ?? null, input.maxUses ?? null, input.ttlSeconds, input.createdBy, input.scope.action ?? 'release'],
    );
    const info = infoOf(rows[0]!);
    await this.audit.record(input.createdBy, 'token.create', subject(id), 'ok', { scope: info.scope, expiresAt: info.expiresAt });
    return { token, info };
  }

  async list(): Promise<TokenInfo[]> {
    const { rows } = await this.pool.query<TokenRow>('SELECT * FROM ci_tokens ORDER BY created_at DESC');
    return rows.map(infoOf);
  }

  async revoke(id: string, actor: string): Promise<void> {
    const { rowCount } = await this.pool.query('UPDATE ci_tokens SET revoked_at = coalesce(revoked_at, now()) WHERE id = $1', [id]);
    if (rowCount === 0) throw new TokenInputError(`no token with id ${id}`);
    await this.audit.record(actor, 'token.revoke', subject(id), 'ok');
  }

  /**
   * Checks the token against the request and counts the use, atomically (two CI jobs racing
   * for the last use cannot both get it). Refusals are audited and thrown as TokenRefused.
   */
  async authorize(token: string, request: ReleaseRequest): Promise<TokenInfo> {
    const row = await this.find(token);
    const refuse = async (reason: string): Promise<never> => {
      await this.audit.record(row ? `token:${row.id}` : 'token:unknown', 'release.start', row ? subject(row.id) : null, 'refused', {
        reason,
        cloud: request.cloud,
        targets: request.targets,
        imageName: request.imageName,
        sourceIp: request.sourceIp,
      });
      throw new TokenRefused(reason, row?.id);
    };
    if (!row) return refuse('unknown token');
    const unusable = await this.unusable(row, request.sourceIp);
    if (unusable) return refuse(unusable);
    const scope = scopeText(row);
    if (actionOf(row) !== 'release') return refuse(`token ${row.id} is for ${scope}: it may revoke releases, not start them`);
    if (request.cloud !== row.scope_cloud) return refuse(`token ${row.id} is for ${scope}, not for ${request.cloud} releases`);
    const allowed = await this.scopeMembers(row);
    const outside = request.targets.filter((t) => !allowed.has(t));
    if (outside.length > 0 || request.targets.length === 0) {
      return refuse(`token ${row.id} is for ${scope}; the job names ${outside.join(', ') || 'no account'}`);
    }
    if (row.image_prefix && !request.imageName.startsWith(row.image_prefix))
      return refuse(`token ${row.id} allows images named "${row.image_prefix}…" only, not "${request.imageName}"`);
    const { rows: used } = await this.pool.query<TokenRow>(
      `UPDATE ci_tokens SET uses = uses + 1
        WHERE id = $1 AND revoked_at IS NULL AND expires_at > now() AND (max_uses IS NULL OR uses < max_uses)
        RETURNING *`,
      [row.id],
    );
    if (!used[0]) return refuse(`token ${row.id} has been used ${row.uses} of ${row.max_uses} times`);
    return infoOf(used[0]);
  }

  /**
   * A token that may read releases (not expired, not revoked, right source): its cloud and the
   * names its scope covers. Reading does not count as a use.
   */
  async check(token: string, sourceIp: string): Promise<{ id: string; cloud: string; members: Set<string>; action: TokenAction; scope: string }> {
    const row = await this.find(token);
    if (!row) throw new TokenRefused('unknown token');
    const unusable = await this.unusable(row, sourceIp);
    if (unusable) throw new TokenRefused(unusable, row.id);
    return { id: row.id, cloud: row.scope_cloud, members: await this.scopeMembers(row), action: actionOf(row), scope: scopeText(row) };
  }

  /**
   * Counts one use of a checked token (a revoke), atomically against max_uses; false when it
   * has none left (two revokes racing for the last use cannot both get it).
   */
  async spend(id: string): Promise<boolean> {
    const { rowCount } = await this.pool.query(
      `UPDATE ci_tokens SET uses = uses + 1
        WHERE id = $1 AND revoked_at IS NULL AND expires_at > now() AND (max_uses IS NULL OR uses < max_uses)`,
      [id],
    );
    return (rowCount ?? 0) > 0;
  }

  private async find(token: string): Promise<TokenRow | undefined> {
    const { rows } = await this.pool.query<TokenRow>('SELECT * FROM ci_tokens WHERE token_sha256 = $1', [hashOf(token)]);
    return rows[0];
  }

  /** Why a token cannot be used at all now, from this address; undefined when it can. */
  private async unusable(row: TokenRow, sourceIp: string): Promise<string | undefined> {
    if (row.revoked_at) return `token ${row.id} was revoked at ${row.revoked_at.toISOString()}`;
    if (row.expires_at.getTime() <= Date.now()) return `token ${row.id} expired at ${row.expires_at.toISOString()}`;
    if (row.source_cidr && !(await this.within(sourceIp, row.source_cidr)))
      return `token ${row.id} is for requests from ${row.source_cidr}, not from ${sourceIp}`;
    return undefined;
  }

  /** Records what an authorized use started (the release id), for the audit trail. */
  async recordUse(info: TokenInfo, request: ReleaseRequest, releaseId: string): Promise<void> {
    await this.audit.record(`token:${info.id}`, 'release.start', subject(info.id), 'ok', {
      releaseId,
      cloud: request.cloud,
      targets: request.targets,
      imageName: request.imageName,
      sourceIp: request.sourceIp,
      use: info.uses,
    });
  }

  /** The names a token's target covers: itself, and the accounts of the group it names. */
  private async scopeMembers(row: TokenRow): Promise<Set<string>> {
    const { rows } = await this.pool.query<{ name: string }>(
      'SELECT name FROM accounts WHERE cloud = $1 AND account_group = $2',
      [row.scope_cloud, row.scope_target],
    );
    return new Set([row.scope_target, ...rows.map((r) => r.name)]);
  }

  private async within(ip: string, cidr: string): Promise<boolean> {
    if (isIP(ip) === 0) return false;
    const { rows } = await this.pool.query<{ inside: boolean }>('SELECT $1::inet <<= $2::cidr AS inside', [ip, cidr]);
    return rows[0]?.inside === true;
  }
}

interface TokenRow {
  id: string;
  description: string | null;
  scope_cloud: string;
  scope_target: string;
  /** Absent before migration 0006. */
  scope_action?: TokenAction;
  image_prefix: string | null;
  source_cidr: string | null;
  max_uses: number | null;
  uses: number;
  expires_at: Date;
  revoked_at: Date | null;
  created_at: Date;
  created_by: string;
}

function infoOf(row: TokenRow): TokenInfo {
  return {
    id: row.id,
    scope: scopeText(row),
    description: row.description,
    imagePrefix: row.image_prefix,
    sourceCidr: row.source_cidr,
    maxUses: row.max_uses,
    uses: row.uses,
    expiresAt: row.expires_at,
    revokedAt: row.revoked_at,
    createdAt: row.created_at,
    createdBy: row.created_by,
  };
}

function actionOf(row: TokenRow): TokenAction {
  return row.scope_action ?? 'release';
}

function scopeText(row: TokenRow): string {
  return `${actionOf(row)}:${row.scope_cloud}:${row.scope_target}`;
}

function hashOf(token: string): Buffer {
  return createHash('sha256').update(token, 'utf8').digest();
}

function subject(id: string): string {
  return `token:${id}`;
}

function isCidr(text: string): boolean {
  const [address, bits, ...rest] = text.split('/');
  const family = isIP(address ?? '');
  if (rest.length > 0 || family === 0 || bits === undefined || !/^\d+$/.test(bits)) return false;
  return Number(bits) <= (family === 4 ? 32 : 128);
}

/** "1h", "30m", "90s", "2d" → seconds. */
export function parseTtl(text: string): number {
  const match = /^(\d+)([smhd])$/.exec(text.trim());
  if (!match) throw new TokenInputError(`--ttl: "${text}" is not a duration such as 30m, 1h or 2d`);
  return Number(match[1]) * { s: 1, m: 60, h: 3600, d: 86400 }[match[2] as 's' | 'm' | 'h' | 'd'];
}
