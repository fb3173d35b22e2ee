import type pg from 'pg';

export type AuditOutcome = 'ok' | 'refused' | 'failed';

export interface AuditEntry {
  at: Date;
  actor: string;
  action: string;
  subject: string | null;
  outcome: AuditOutcome;
  detail: Record<string, unknown> | null;
}

/** Who did what, kept in PostgreSQL: account changes, key rotations, every CI token use. Never a secret. */
export class AuditLog {
  constructor(private readonly pool: pg.Pool) {}

  async record(
    actor: string,
    action: string,
    subject: string | null,
    outcome: AuditOutcome,
    detail?: Record<string, unknown>,
  ): Promise<void> {
    await this.pool.query(
      'INSERT INTO audit_log (actor, action, subject, outcome, detail) VALUES ($1, $2, $3, $4, $5)',
      [actor, action, subject, outcome, detail ?? null],
    );
  }

  /** Newest first. */
  async entries(filter: { subject?: string; action?: string; limit?: number } = {}): Promise<AuditEntry[]> {
    const { rows } = await this.pool.query<AuditEntry>(
      `SELECT at, actor, action, subject, outcome, detail FROM audit_log
        WHERE ($1::text IS NULL OR subject = $1) AND ($2::text IS NULL OR action = $2)
        ORDER BY id DESC LIMIT $3`,
      [filter.subject ?? null, filter.action ?? null, filter.limit ?? 100],
    );
    return rows;
  }
}
